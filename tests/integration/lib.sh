# Shared helpers for integration tests; source it from each test script.
#   KILN              the kiln binary under test (set by meson)
#   KILN_SOURCE_ROOT  the source tree
# A test that cannot run says why and exits 77, which meson reports as SKIP.
set -eu

: "${KILN:?KILN must point at the kiln binary}"
: "${KILN_SOURCE_ROOT:?KILN_SOURCE_ROOT must point at the source tree}"
SHARED_DIR=$(cd "$KILN_SOURCE_ROOT/.." && pwd)/shared

skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (make test installs it)"
  done
}

need_shared() {
  [ -d "$SHARED_DIR/$1" ] || skip "../shared/$1 is absent (a checkout outside the kiln workplace)"
}

# A scratch directory removed on exit; world-accessible so the unprivileged
# test users can work in it too.
WORK=$(mktemp -d /tmp/kiln-it.XXXXXX)
chmod 0755 "$WORK"
# Each test starts with an empty build cache of its own, so a step is never
# found from an earlier run (a cached RUN would test nothing).
export XDG_CACHE_HOME="$WORK/.cache"
cleanup() {
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Runs a command as the unprivileged test user (with a subuid range), or as
# the current user when the tests do not run as root.
ROOTLESS_USER=kiln-test
as_user() {
  as_named_user "$ROOTLESS_USER" "$@"
}

# Runs a command as the named test user: kiln-test (with a subuid range) or
# kiln-nosub (without one); as the current user when not root.
as_named_user() {
  _as_name=$1
  shift
  if [ "$(id -u)" -ne 0 ]; then
    "$@"
  else
    id "$_as_name" >/dev/null 2>&1 || skip "user $_as_name is missing (scripts/setup-test-users.sh makes it)"
    _as_dirs=""
    [ "$_as_name" = "$ROOTLESS_USER" ] || _as_dirs="-$_as_name"
    mkdir -p "$WORK/.user-data$_as_dirs" "$WORK/.user-cache$_as_dirs"
    chown "$_as_name" "$WORK/.user-data$_as_dirs" "$WORK/.user-cache$_as_dirs"
    runuser -u "$_as_name" -- env HOME="/home/$_as_name" XDG_DATA_HOME="$WORK/.user-data$_as_dirs" \
      XDG_CACHE_HOME="$WORK/.user-cache$_as_dirs" "$@"
  fi
}

# Expects a command to fail with a one-line error containing $1.
expect_error() {
  pattern=$1
  shift
  if "$@" >"$WORK/.out" 2>"$WORK/.err"; then
    fail "expected failure ($pattern) from: $*"
  fi
  grep -q -- "$pattern" "$WORK/.err" || { cat "$WORK/.err" >&2; fail "error for '$*' lacks '$pattern'"; }
  [ "$(wc -l < "$WORK/.err")" -eq 1 ] || { cat "$WORK/.err" >&2; fail "error for '$*' is not one line"; }
}
