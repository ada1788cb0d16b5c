#!/usr/bin/env python3
"""Compares two directory trees entry by entry: type, mode, owner, symlink
target, content, device numbers, hardlink grouping, and (with --mtime) the
modification time. Prints each difference and exits 1 if there is any.

usage: compare_trees.py [--mtime] [--no-owner] [--ignore PATH]... A B
"""
import hashlib
import os
import stat
import sys


def walk(root, ignore):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if rel in ignore:
                continue
            st = os.lstat(full)
            entry = {"type": stat.S_IFMT(st.st_mode), "mode": stat.S_IMODE(st.st_mode),
                     "uid": st.st_uid, "gid": st.st_gid, "mtime": int(st.st_mtime),
                     "ino": (st.st_dev, st.st_ino), "nlink": st.st_nlink}
            if stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(full)
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    entry["sha"] = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                entry["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            out[rel] = entry
    return out


def link_groups(tree):
    groups = {}
    for rel, e in tree.items():
        if e["type"] == stat.S_IFREG and e["nlink"] > 1:
            groups.setdefault(e["ino"], []).append(rel)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)


def main(argv):
    check_mtime = "--mtime" in argv
    check_owner = "--no-owner" not in argv
    ignore = set()
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--ignore":
            ignore.add(argv[i + 1])
            i += 2
            continue
        if not argv[i].startswith("--"):
            args.append(argv[i])
        i += 1
    a, b = walk(args[0], ignore), walk(args[1], ignore)
    problems = []
    for rel in sorted(set(a) | set(b)):
        if rel not in a or rel not in b:
            problems.append(f"{rel}: only in {'A' if rel in a else 'B'}")
            continue
        keys = ["type", "mode", "target", "sha", "rdev"]
        if check_owner:
            keys += ["uid", "gid"]
        if check_mtime and a[rel]["type"] != stat.S_IFLNK:
            keys.append("mtime")
        for key in keys:
            if a[rel].get(key) != b[rel].get(key):
                problems.append(f"{rel}: {key} {a[rel].get(key)!r} != {b[rel].get(key)!r}")
    if link_groups(a) != link_groups(b):
        problems.append(f"hardlinks differ: {link_groups(a)} != {link_groups(b)}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
