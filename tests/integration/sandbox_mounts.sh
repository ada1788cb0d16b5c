#!/bin/sh
# RUN --mount kinds through kiln run --mount: read-only and writable binds,
# tmpfs, a cache that persists, and a secret that never reaches the upper dir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"

for u in $SANDBOX_USERS; do
  echo "== as $u"
  rootfs=$(busybox_rootfs_for "$u")
  share=$(user_dir "$u" "share-$u")
  echo "from the host" >"$share/data"
  [ "$u" = root ] || [ "$u" = self ] || chown "$u" "$share/data"
  cache=$(user_dir "$u" "cache-$u")/npm
  # The secret is readable by the invoking user only.
  secret=$(user_dir "$u" "secret-$u")/token
  echo "s3cret-value" >"$secret"
  chmod 0600 "$secret"
  [ "$u" = root ] || [ "$u" = self ] || chown "$u" "$secret"
  run() { as_sandbox_user "$u" "$KILN" run --rootfs "$rootfs" "$@"; }

  out=$(run --mount "type=bind,source=$share,target=/mnt/share" -- /bin/sh -c \
    'cat /mnt/share/data; echo x > /mnt/share/new && echo WROTE' 2>&1) || true
  echo "$out" | grep -q "from the host" || { echo "$out"; fail "$u: bind mount not visible"; }
  ! echo "$out" | grep -qx WROTE || fail "$u: a read-only bind mount was writable"
  echo "$out" | grep -q "Read-only file system" || { echo "$out"; fail "$u: no EROFS"; }

  run --diff --mount "type=tmpfs,target=/scratch" --mount "type=secret,id=token,source=$secret" -- /bin/sh -c \
    'echo t > /scratch/t && cat /run/secrets/token && stat -c "%a %u" /run/secrets/token' >"$WORK/diff" 2>"$WORK/err" ||
    { cat "$WORK/err"; fail "$u: tmpfs/secret run failed"; }
  grep -q '^s3cret-value$' "$WORK/diff" || { cat "$WORK/diff"; fail "$u: secret not readable"; }
  grep -q '^400 0$' "$WORK/diff" || { cat "$WORK/diff"; fail "$u: secret not 0400 root"; }
  ! grep -q '^[CDO] ' "$WORK/diff" || { cat "$WORK/diff"; fail "$u: tmpfs or secret mount points reached the upper dir"; }
  ! grep -q s3cret "$WORK/err" || fail "$u: the secret leaked into kiln's messages"

  run --mount "type=cache,source=$cache,target=/var/cache/app" -- /bin/sh -c 'echo kept > /var/cache/app/f' 2>/dev/null ||
    fail "$u: cache run failed"
  out=$(run --mount "type=cache,source=$cache,target=/var/cache/app" -- /bin/cat /var/cache/app/f 2>/dev/null)
  [ "$out" = kept ] || fail "$u: the cache did not persist ('$out')"
done
echo "sandbox mounts: ok"
