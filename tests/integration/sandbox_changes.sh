#!/bin/sh
# What a run changed, as the upper-dir walk reports it for the layer writer:
# additions, deletions as whiteouts, opaque directories, nothing for a run
# that changes nothing; on the kernel overlayfs and the copy-and-diff
# snapshot drivers, for root and both unprivileged users.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"
need python3

for u in $SANDBOX_USERS; do
  rootfs=$(busybox_rootfs_for "$u")
  layer=$(user_dir "$u" "layer-$u")
  # A second layer above the rootfs, as the layer store stacks them.
  mkdir -p "$layer/etc"
  echo layered >"$layer/etc/motd"
  # Deletions stored in the layer as overlayfs keeps them: a 0/0 device
  # hides /bin/false, user.overlay.opaque hides what /hidden held below.
  mkdir -p "$rootfs/hidden" "$layer/bin" "$layer/hidden"
  echo below >"$rootfs/hidden/below"
  echo above >"$layer/hidden/above"
  mknod "$layer/bin/false" c 0 0
  python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.overlay.opaque", b"y")' "$layer/hidden"
  chown -R "$(container_root_owner "$u")" "$layer" "$rootfs/hidden"
  scratch=$(user_dir "$u" "scratch-$u")
  for driver in overlay copy; do
    echo "== as $u on $driver"
    run() {
      as_sandbox_user "$u" "$KILN" run --scratch "$scratch" --rootfs-driver "$driver" --rootfs "$rootfs" \
        --layer "$layer" "$@"
    }
    run --diff -- /bin/sh -c 'cat /etc/motd; rm /etc/obsolete; rm -rf /old; mkdir -p /old; echo new > /old/fresh; echo x > /root/added' \
      >"$WORK/diff" 2>"$WORK/err" || { cat "$WORK/err"; fail "$u/$driver: run failed"; }
    grep -q "rootfs on $( [ $driver = overlay ] && echo overlayfs || echo copy)" "$WORK/err" ||
      { cat "$WORK/err"; fail "$u/$driver: kiln did not say which rootfs driver it used"; }
    grep -v '^layered$' "$WORK/diff" >"$WORK/got"
    cat >"$WORK/want" <<'WANT'
C /etc 0:0 755
C /old 0:0 755
C /old/fresh 0:0 644
C /root 0:0 755
C /root/added 0:0 644
D /etc/obsolete
O /old
WANT
    diff -u "$WORK/want" "$WORK/got" || fail "$u/$driver: unexpected changes"
    grep -q '^layered$' "$WORK/diff" || fail "$u/$driver: the upper layer is not visible"

    out=$(run -- /bin/sh -c 'ls /hidden; [ -e /bin/false ] && echo false-visible' 2>/dev/null) || true
    [ "$out" = above ] || fail "$u/$driver: the layer's whiteout or opaque dir was not honoured ('$out')"

    # A run that changes nothing: no entries at all.
    run --diff -- /bin/ls / >"$WORK/diff" 2>"$WORK/err" || { cat "$WORK/err"; fail "$u/$driver: ls failed"; }
    ! grep -q '^[CDO] ' "$WORK/diff" || { cat "$WORK/diff"; fail "$u/$driver: a read-only run changed something"; }
    [ -z "$(ls -A "$scratch")" ] || fail "$u/$driver: temporary directories left in $scratch"
  done
done
echo "sandbox changes: ok"
