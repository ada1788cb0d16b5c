# Helpers for the sandbox tests (source after lib.sh). Each scenario runs
# as every kind of invoking user the sandbox treats differently:
#   root        container ids map to a subordinate range of root's (or the
#               fixed range 0x70000000 + 0..65535), never host root
#   kiln-test   container root = kiln-test, the rest through /etc/subuid
#   kiln-nosub  container root = kiln-nosub only (single-id map, warning)
# When the tests do not run as root, only the current user ("self") is tried.

need busybox
[ -x /bin/busybox ] || skip "/bin/busybox is missing (Debian package busybox-static)"

if [ "$(id -u)" -eq 0 ]; then
  SANDBOX_USERS="root kiln-test kiln-nosub"
else
  SANDBOX_USERS="self"
fi

# as_sandbox_user USER CMD...: runs CMD as USER.
as_sandbox_user() {
  _sb_user=$1
  shift
  case "$_sb_user" in
    root | self) "$@" ;;
    *) as_named_user "$_sb_user" "$@" ;;
  esac
}

# The host uid:gid container root maps to for USER, as the layer store would
# own an extracted layer's root-owned files.
container_root_owner() {
  as_sandbox_user "$1" "$KILN" run --print-idmap >"$WORK/.idmap"
  uid=$(awk '$1 == "uid" && $2 == 0 { print $3 }' "$WORK/.idmap")
  gid=$(awk '$1 == "gid" && $2 == 0 { print $3 }' "$WORK/.idmap")
  [ -n "$uid" ] && [ -n "$gid" ] || fail "kiln run --print-idmap printed no mapping for container root"
  echo "$uid:$gid"
}

# user_has_range USER: true when USER's map covers more than container root.
user_has_range() {
  as_sandbox_user "$1" "$KILN" run --print-idmap | awk '$1 == "uid" { n += $4 } END { exit !(n > 1) }'
}

# A directory USER may write in.
user_dir() {
  dir=$WORK/$2
  mkdir -p "$dir"
  case "$1" in
    root | self) ;;
    *) chown "$1" "$dir" ;;
  esac
  echo "$dir"
}

# make_busybox_rootfs DIR USER: a tiny rootfs from Debian's busybox-static,
# owned by USER's container root.
make_busybox_rootfs() {
  mkdir -p "$1/bin" "$1/etc" "$1/tmp" "$1/proc" "$1/dev" "$1/root" "$1/old/sub"
  cp /bin/busybox "$1/bin/busybox"
  for applet in sh ls id cat echo touch rm mkdir sleep chown ps nc env pwd true false wc stat; do
    ln -s busybox "$1/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$1/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\n' >"$1/etc/group"
  echo gone >"$1/etc/obsolete"
  echo old >"$1/old/sub/file"
  chmod 1777 "$1/tmp"
  chown -R "$(container_root_owner "$2")" "$1"
}

# make_noshell_rootfs DIR USER: one static binary and nothing else (the
# distroless case): no /bin/sh.
make_noshell_rootfs() {
  mkdir -p "$1/usr/bin"
  cp /bin/busybox "$1/usr/bin/busybox"
  chown -R "$(container_root_owner "$2")" "$1"
}

# expect_run_error PATTERN CMD...: expect_error, but the single-id warning
# kiln-nosub always gets may precede the one-line error.
expect_run_error() {
  pattern=$1
  shift
  if "$@" >"$WORK/.out" 2>"$WORK/.err"; then
    fail "expected failure ($pattern) from: $*"
  fi
  grep -v '^kiln: warning: sandbox: ' "$WORK/.err" >"$WORK/.err1" || true
  grep -q -- "$pattern" "$WORK/.err1" || { cat "$WORK/.err" >&2; fail "error for '$*' lacks '$pattern'"; }
  [ "$(wc -l <"$WORK/.err1")" -eq 1 ] || { cat "$WORK/.err" >&2; fail "error for '$*' is not one line"; }
}

# busybox_rootfs_for USER [TAG]: a fresh busybox rootfs for USER; prints its path.
busybox_rootfs_for() {
  _rootfs=$(user_dir "$1" "rootfs-$1${2:+-$2}")
  make_busybox_rootfs "$_rootfs" "$1"
  echo "$_rootfs"
}
