#!/bin/sh
# kiln import: rootfs directories and tarballs become one-layer images that
# umoci unpacks faithfully, reproducibly under SOURCE_DATE_EPOCH, as root
# and as an unprivileged user.
. "$(dirname "$0")/lib.sh"
need umoci skopeo oci-image-tool python3
cd "$WORK"

# A tree with every kind of entry import must keep.
mkdir -p tree/etc tree/usr/bin tree/tmp tree/srv/data "tree/with space"
echo hello > tree/etc/greeting
printf '#!/bin/sh\necho hi\n' > tree/usr/bin/hi && chmod 0755 tree/usr/bin/hi
ln -s ../../etc/greeting tree/usr/bin/greeting-link
ln tree/etc/greeting tree/etc/greeting-hard
chmod 1777 tree/tmp
chmod 0700 tree/srv/data
echo x > "tree/with space/file"
chmod 4755 tree/usr/bin/hi
mkfifo tree/srv/fifo
chown -R 1234:5678 tree/srv
setfattr -n user.kiln -v test tree/etc/greeting 2>/dev/null || true

# The same tree as a tarball with root-owned files and a device node.
tar --numeric-owner -C tree -cf tree.tar .
python3 - <<'PY'
import tarfile
with tarfile.open("tree.tar", "a") as t:
    info = tarfile.TarInfo("dev/null")
    info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3; info.mode = 0o666
    t.addfile(info)
PY

export SOURCE_DATE_EPOCH=1700000000
d1=$("$KILN" import -q tree -t oci:dirimg:v1 --entrypoint '["/usr/bin/hi"]' --env A=1 --label org.example=yes)
oci-image-tool validate --type image --ref name=v1 dirimg >/dev/null || fail "oci-image-tool rejects an imported image"
skopeo inspect oci:dirimg:v1 >/dev/null || fail "skopeo inspect of an imported image"
umoci unpack --image dirimg:v1 bundle >/dev/null || fail "umoci unpack of an imported image"
r=bundle/rootfs
[ "$(cat $r/etc/greeting)" = hello ] || fail "content"
[ "$(stat -c %a $r/tmp)" = 1777 ] || fail "sticky /tmp mode: $(stat -c %a $r/tmp)"
[ "$(stat -c %a $r/usr/bin/hi)" = 4755 ] || fail "setuid mode"
[ "$(stat -c %u:%g $r/srv/data)" = 1234:5678 ] || fail "ownership: $(stat -c %u:%g $r/srv/data)"
[ "$(readlink $r/usr/bin/greeting-link)" = ../../etc/greeting ] || fail "symlink target"
[ "$(stat -c %i $r/etc/greeting)" = "$(stat -c %i $r/etc/greeting-hard)" ] || fail "hardlink not kept"
[ -p $r/srv/fifo ] || fail "fifo"
[ -f "$r/with space/file" ] || fail "name with a space"
[ "$(stat -c %Y $r/etc/greeting)" -le 1700000000 ] || fail "mtime not clamped"
"$KILN" inspect --raw config oci:dirimg:v1 | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c["created"] == "2023-11-14T22:13:20Z", c["created"]
assert c["config"]["Entrypoint"] == ["/usr/bin/hi"]
assert "A=1" in c["config"]["Env"]
assert c["config"]["Labels"]["org.example"] == "yes"
assert c["history"][0]["created"] == "2023-11-14T22:13:20Z"
' || fail "config fields"

# Reproducible: a second import, after touching every file, gives the same digest.
find tree -exec touch -h {} +
d2=$("$KILN" import -q tree -t oci:dirimg2:v1 --entrypoint '["/usr/bin/hi"]' --env A=1 --label org.example=yes)
[ "$d1" = "$d2" ] || fail "two imports of one tree differ: $d1 $d2"

# A tarball keeps root ownership and the device node, also for an unprivileged user.
chmod 0644 tree.tar
mkdir -p "$WORK/user" && chown "$ROOTLESS_USER" "$WORK/user" 2>/dev/null || true
t1=$(as_user "$KILN" import -q "$WORK/tree.tar" -t oci:"$WORK/user/tarimg":v1)
t2=$("$KILN" import -q tree.tar -t oci:tarimg-root:v1)
[ "$t1" = "$t2" ] || fail "rootless and root imports of one tarball differ"
umoci unpack --image "$WORK/user/tarimg":v1 tarbundle >/dev/null || fail "umoci unpack of a tarball import"
[ -c tarbundle/rootfs/dev/null ] || fail "device node lost"
[ "$(stat -c %u:%g tarbundle/rootfs/srv/data)" = 1234:5678 ] || fail "tarball ownership lost"

# zstd and uncompressed layers (umoci 0.4.7 predates zstd; skopeo reads it).
z=$("$KILN" import -q tree.tar -t oci:zimg:v1 --compression zstd)
"$KILN" inspect oci:zimg:v1 | grep -q 'tar+zstd' || fail "zstd media type"
skopeo copy -q oci:zimg:v1 oci:zcopy:v1 || fail "skopeo copy of a zstd image"
"$KILN" import -q tree.tar -t oci:nimg:v1 --compression none >/dev/null
umoci unpack --image nimg:v1 nbundle >/dev/null || fail "umoci unpack of an uncompressed image"

# Several destinations, archives among them.
"$KILN" import -q tree -t oci:multi:a -t oci-archive:"$WORK/m.tar":a -t docker-archive:"$WORK/d.tar":x/y:1 >/dev/null
skopeo inspect oci-archive:"$WORK/m.tar":a >/dev/null || fail "oci-archive destination"
skopeo inspect docker-archive:"$WORK/d.tar" >/dev/null || fail "docker-archive destination"

# Bad input: one line, non-zero, nothing written.
expect_error "exec form" "$KILN" import tree -t oci:bad:v1 --entrypoint "/usr/bin/hi"
expect_error "no such file" "$KILN" import "$WORK/none" -t oci:bad:v1
expect_error "name the image" "$KILN" import tree
expect_error "compression" "$KILN" import tree -t oci:bad:v1 --compression lz4
[ ! -e bad ] || fail "a failed import left a layout"
echo ok
