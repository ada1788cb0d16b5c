#!/bin/sh
# kiln reads layouts written by umoci and skopeo, and what kiln writes
# (layouts, oci-archive, docker-archive) is read by skopeo, umoci and
# oci-image-tool.
. "$(dirname "$0")/lib.sh"
need umoci skopeo oci-image-tool
cd "$WORK"

# A small image made by umoci, with files of every common kind.
umoci init --layout src
umoci new --image src:base
mkdir -p rootfs/etc rootfs/usr/bin
echo hello > rootfs/etc/greeting
ln -s ../etc/greeting rootfs/usr/bin/link
ln rootfs/etc/greeting rootfs/etc/hard
tar -C rootfs -cf layer.tar .
umoci raw add-layer --image src:base --tag one layer.tar

# kiln reads umoci's layout and one written by skopeo.
"$KILN" inspect oci:src:one | grep -q '^Layers: *1$' || fail "kiln inspect of a umoci layout"
skopeo copy -q oci:src:one oci:skopeo-copy:copied
"$KILN" inspect oci:skopeo-copy:copied >/dev/null || fail "kiln inspect of a skopeo layout"
"$KILN" fsck skopeo-copy >/dev/null || fail "kiln fsck of a skopeo layout"

# kiln writes a layout that the peers accept.
digest=$("$KILN" copy oci:src:one oci:out:v1)
case "$digest" in sha256:*) ;; *) fail "kiln copy printed '$digest'" ;; esac
oci-image-tool validate --type image --ref name=v1 out >/dev/null || fail "oci-image-tool rejects kiln's layout"
skopeo inspect oci:out:v1 >/dev/null || fail "skopeo inspect oci:out:v1"
skopeo copy -q oci:out:v1 oci:again:v1 || fail "skopeo copy of kiln's layout"
[ "$(skopeo inspect --format '{{.Digest}}' oci:again:v1)" = "$digest" ] || fail "digest changed through skopeo"
umoci unpack --image out:v1 bundle >/dev/null || fail "umoci unpack of kiln's layout"
[ "$(cat bundle/rootfs/etc/greeting)" = hello ] || fail "unpacked content differs"

# Archives.
"$KILN" copy oci:src:one oci-archive:"$WORK/img.tar":v1 >/dev/null
skopeo inspect oci-archive:"$WORK/img.tar":v1 >/dev/null || fail "skopeo rejects kiln's oci-archive"
[ "$("$KILN" copy oci-archive:"$WORK/img.tar":v1 oci:fromarchive:v1)" = "$digest" ] || fail "oci-archive round trip"
"$KILN" copy oci:src:one docker-archive:"$WORK/docker.tar":example.com/app:1 >/dev/null
skopeo inspect docker-archive:"$WORK/docker.tar" >/dev/null || fail "skopeo rejects kiln's docker-archive"
tar -tf docker.tar | grep -q '^manifest.json$' || fail "docker-archive lacks manifest.json"
skopeo copy -q oci:src:one docker-archive:"$WORK/skopeo-docker.tar":example.com/app:2
"$KILN" inspect docker-archive:"$WORK/skopeo-docker.tar" | grep -q '^Layers: *1$' ||
  fail "kiln cannot read skopeo's docker-archive"
"$KILN" copy docker-archive:"$WORK/skopeo-docker.tar" oci:fromdocker:v1 >/dev/null
"$KILN" fsck fromdocker >/dev/null || fail "fsck after docker-archive import"

# Archives are deterministic: the same image gives the same bytes.
"$KILN" copy oci:src:one oci-archive:"$WORK/img2.tar":v1 >/dev/null
cmp -s img.tar img2.tar || fail "two oci-archives of one image differ"

# The default local store under XDG_DATA_HOME.
XDG_DATA_HOME="$WORK/xdg" "$KILN" copy oci:src:one app:1 >/dev/null
XDG_DATA_HOME="$WORK/xdg" "$KILN" inspect app:1 | grep -q "^Image: *app:1$" || fail "local store lookup"
[ -f "$WORK/xdg/kiln/images/index.json" ] || fail "local store not under XDG_DATA_HOME"
grep -q '"localhost/app:1"' "$WORK/xdg/kiln/images/index.json" || fail "local tag is not localhost/app:1"

# The same as the unprivileged user.
cp -r src "$WORK/usersrc" && chown -R "$ROOTLESS_USER" "$WORK/usersrc" 2>/dev/null || true
mkdir -p "$WORK/userout" && chown "$ROOTLESS_USER" "$WORK/userout" 2>/dev/null || true
as_user "$KILN" copy oci:"$WORK/usersrc":one oci:"$WORK/userout/l":v1 >/dev/null || fail "copy as $ROOTLESS_USER"
as_user "$KILN" fsck "$WORK/userout/l" >/dev/null || fail "fsck as $ROOTLESS_USER"
echo "ok"
