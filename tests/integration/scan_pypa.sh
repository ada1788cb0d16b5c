#!/bin/sh
# Acceptance: ../shared/data/pypa-osv/advisories.jsonl imported, and a rootfs
# holding a dist-info directory for every (package, version) pair of that
# folder's README table, must give exactly the table's advisory ids, with its
# via, fixed-in and severity columns. The table is read from the README at
# run time (the shared data is never copied into the repository). A Debian
# package owning a dist-info directory keeps it away from PyPI matching.
. "$(dirname "$0")/lib.sh"
need python3
need_shared data/pypa-osv
DATA="$SHARED_DIR/data/pypa-osv"

"$KILN" db import "$DATA/advisories.jsonl" -o "$WORK/pypa.db" --uri "pkg:github/pypa/advisory-database" >"$WORK/import.out" ||
  fail "import of the PyPA snapshot"
grep -q "2651 records stored; 2661 read, 10 withdrawn, 0 malformed" "$WORK/import.out" || { cat "$WORK/import.out"; fail "import counts"; }

R="$WORK/rootfs"
mkdir -p "$R/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$R/etc/os-release"
python3 - "$DATA/README.md" "$R" "$WORK/expected.json" <<'PY'
import json, os, re, sys
readme, root, out = sys.argv[1:]
rows = []
for line in open(readme):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 8 and re.fullmatch(r"\d+", cells[0]):
        rows.append(cells)
assert len(rows) == 32, "README table rows: %d" % len(rows)
pairs = sorted({(r[1], r[2]) for r in rows})
for i, (name, version) in enumerate(pairs):
    d = os.path.join(root, "venv%d/lib/python3.11/site-packages/%s-%s.dist-info" % (i, name, version))
    os.makedirs(d)
    open(os.path.join(d, "METADATA"), "w").write("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
expected = []
for r in rows:
    if r[3] == "none":
        continue
    fixed = None if r[6].startswith("none") else r[6]
    sev = r[7].split()
    expected.append({"package": r[1], "version": r[2], "id": r[3], "via": r[5].split("+"), "fixed_in": fixed,
                     "severity": sev[0], "score": float(sev[1]) if len(sev) > 1 else None})
json.dump(expected, open(out, "w"))
PY
# python3-starlette from bookworm owns this copy: Debian data only (spec §1.4).
mkdir -p "$R/var/lib/dpkg/status.d" "$R/usr/lib/python3/dist-packages/starlette-0.26.1.dist-info"
printf 'Package: python3-starlette\nSource: starlette\nVersion: 0.26.1-1+deb12u2\nArchitecture: all\n' \
  >"$R/var/lib/dpkg/status.d/python3-starlette"
printf '00000000000000000000000000000000  usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA\n' \
  >"$R/var/lib/dpkg/status.d/python3-starlette.md5sums"
printf 'Name: starlette\nVersion: 0.26.1\n' >"$R/usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA"

"$KILN" scan --rootfs "$R" --db "$WORK/pypa.db" --format json -o "$WORK/report.json" 2>"$WORK/scan.err" ||
  { cat "$WORK/scan.err"; fail "scan"; }
python3 - "$WORK/report.json" "$WORK/expected.json" <<'PY' || fail "findings differ from the README table"
import json, sys
report = json.load(open(sys.argv[1]))
expected = json.load(open(sys.argv[2]))
got = {}
for f in report["findings"]:
    assert not f["location"].startswith("usr/lib/python3/dist-packages/"), "Debian-owned starlette matched PyPI: %s" % f
    got[(f["package"], f["version"], f["id"])] = f
want = {(e["package"], e["version"], e["id"]): e for e in expected}
missing = sorted(set(want) - set(got))
extra = sorted(set(got) - set(want))
assert not missing and not extra, "missing %s\nextra %s" % (missing, extra)
bad = []
for key, e in want.items():
    f = got[key]
    if sorted(f["via"]) != sorted(e["via"]) or f["fixed_in"] != e["fixed_in"] or f["severity"] != e["severity"] \
            or f.get("score") != e["score"]:
        bad.append((key, e, {k: f.get(k) for k in ("via", "fixed_in", "severity", "score")}))
assert not bad, "\n".join(map(str, bad))
assert report["db"]["version"] == "2024-10-10", report["db"]
print("PASS: %d findings match the README table" % len(want))
PY
