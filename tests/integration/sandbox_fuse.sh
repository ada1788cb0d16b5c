#!/bin/sh
# The fuse-overlayfs rootfs driver reports the same changes as kernel
# overlayfs. It needs /dev/fuse usable by container root, that is mode 0666
# as Debian's udev rules set it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"
need fuse-overlayfs
[ -c /dev/fuse ] || skip "/dev/fuse is absent"
[ "$(stat -c %a /dev/fuse)" = 666 ] ||
  skip "/dev/fuse is mode $(stat -c %a /dev/fuse): no user namespace can open it, so auto falls back to the copy driver (sandbox_changes covers that)"

for u in $SANDBOX_USERS; do
  echo "== as $u"
  rootfs=$(busybox_rootfs_for "$u")
  scratch=$(user_dir "$u" "scratch-$u")
  as_sandbox_user "$u" "$KILN" run --scratch "$scratch" --rootfs-driver fuse-overlayfs --diff --rootfs "$rootfs" -- \
    /bin/sh -c 'rm /etc/obsolete; rm -rf /old; mkdir -p /old; echo n > /old/fresh' >"$WORK/diff" 2>"$WORK/err" ||
    { cat "$WORK/err"; fail "$u: run on fuse-overlayfs failed"; }
  grep -q "rootfs on fuse-overlayfs" "$WORK/err" || fail "$u: kiln did not say it used fuse-overlayfs"
  cat >"$WORK/want" <<'WANT'
C /etc 0:0 755
C /old 0:0 755
C /old/fresh 0:0 644
D /etc/obsolete
O /old
WANT
  diff -u "$WORK/want" "$WORK/diff" || fail "$u: unexpected changes on fuse-overlayfs"
  [ -z "$(ls -A "$scratch")" ] || fail "$u: temporary directories left in $scratch"
  ! pgrep -f "fuse-overlayfs.*$scratch" >/dev/null || fail "$u: a fuse-overlayfs daemon survived"
done
echo "sandbox fuse-overlayfs: ok"
