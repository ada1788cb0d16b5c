#!/bin/sh
# kiln run: identity, PID namespace, exec form without a shell, user, env,
# workdir, failures, for root and both unprivileged users.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"

for u in $SANDBOX_USERS; do
  echo "== as $u"
  rootfs=$(busybox_rootfs_for "$u")
  scratch=$(user_dir "$u" "scratch-$u")
  run() { as_sandbox_user "$u" "$KILN" run --scratch "$scratch" --rootfs "$rootfs" "$@"; }

  # Container root, and never host root.
  [ "$(run -- /bin/id -u 2>/dev/null)" = 0 ] || fail "$u: id -u inside is not 0"
  host_of_root=$(run -- /bin/cat /proc/self/uid_map 2>/dev/null | awk '$1 == 0 { print $2 }')
  [ "$host_of_root" != 0 ] || fail "$u: container root is host root"
  echo "container root is host uid $host_of_root"

  # A new PID namespace: our shell is PID 2 under kiln's PID 1, and few
  # processes are visible.
  [ "$(run -- /bin/sh -c 'echo $$' 2>/dev/null)" = 2 ] || fail "$u: the command is not PID 2"
  pids=$(run -- /bin/ls /proc 2>/dev/null | grep -c '^[0-9][0-9]*$')
  [ "$pids" -le 3 ] || fail "$u: $pids processes visible in the sandbox's /proc"

  # No new privileges, Docker's capability set at most, and PID 1 (a copy
  # of kiln) unreadable by the command.
  run -- /bin/cat /proc/self/status >"$WORK/status" 2>/dev/null
  grep -q '^NoNewPrivs:[[:space:]]*1$' "$WORK/status" || fail "$u: no_new_privs is not set"
  grep -q '^CapBnd:[[:space:]]*00000000a80425fb$' "$WORK/status" || { grep Cap "$WORK/status"; fail "$u: bounding set"; }
  ! run -- /bin/cat /proc/1/maps >/dev/null 2>&1 || fail "$u: the command can read PID 1's memory map"

  # The rootfs overlay is volatile: the step's scratch upper dir is not
  # synced to disk when the sandbox ends (nor by an fsync inside it).
  run -- /bin/cat /proc/self/mountinfo >"$WORK/mountinfo" 2>"$WORK/driver"
  if grep -q 'rootfs on overlayfs' "$WORK/driver"; then
    grep ' / / ' "$WORK/mountinfo" | grep -q 'volatile' || { cat "$WORK/mountinfo"; fail "$u: rootfs overlay is not volatile"; }
  else
    echo "skipped the volatile check for $u: $(cat "$WORK/driver")"
  fi

  # UTS and IPC namespaces.
  [ "$(run -- /bin/busybox hostname 2>/dev/null)" = kiln ] || fail "$u: hostname is not kiln"
  [ "$(run -- /bin/busybox readlink /proc/self/ns/ipc)" != "$(readlink /proc/self/ns/ipc)" ] ||
    fail "$u: IPC namespace shared with the host"

  # Env and a working directory that is created.
  out=$(run --env GREETING=hello --workdir /srv/app -- /bin/sh -c 'echo "$GREETING $(pwd) $HOME"' 2>/dev/null)
  [ "$out" = "hello /srv/app /root" ] || fail "$u: env/workdir gave '$out'"

  # The rootfs stays untouched.
  run -- /bin/rm /etc/obsolete 2>/dev/null
  [ -f "$rootfs/etc/obsolete" ] || fail "$u: the lower dir was modified"

  # Id mapping: with a range a file made by container uid 1000 is uid 1000
  # in the upper dir's container view; without one, uid 1000 is refused
  # and kiln warned beforehand.
  if user_has_range "$u"; then
    run --diff --user 1000:1000 -- /bin/touch /tmp/made-by-app >"$WORK/diff" 2>"$WORK/err" ||
      { cat "$WORK/err"; fail "$u: run as 1000 failed"; }
    grep -q '^C /tmp/made-by-app 1000:1000 ' "$WORK/diff" || { cat "$WORK/diff"; fail "$u: owner not 1000:1000"; }
    run --diff -- /bin/chown 1000:1000 /etc/passwd >"$WORK/diff" 2>/dev/null || fail "$u: chown failed"
    grep -q '^C /etc/passwd 1000:1000 ' "$WORK/diff" || { cat "$WORK/diff"; fail "$u: chown not recorded"; }
    run --user app -- /bin/id >"$WORK/id" 2>/dev/null
    grep -q 'uid=1000(app) gid=1000(app)' "$WORK/id" || { cat "$WORK/id"; fail "$u: --user app"; }
    ! grep -q 'no range' "$WORK/err" || fail "$u: single-id warning with a range"
  else
    if run --user 1000 -- /bin/true >"$WORK/out" 2>"$WORK/err"; then
      fail "$u: uid 1000 ran under a single-id map"
    fi
    grep -q 'warning: sandbox: .*no range in /etc/subuid.*chown' "$WORK/err" || { cat "$WORK/err"; fail "$u: no warning"; }
    grep -q 'not mapped' "$WORK/err" || { cat "$WORK/err"; fail "$u: the error does not say the id is unmapped"; }
    [ "$(grep -c 'warning: sandbox' "$WORK/err")" -eq 1 ] || fail "$u: the warning is not one line"
  fi

  # A failing command: its status, and with --quiet its last lines.
  status=0
  run --quiet -- /bin/sh -c 'echo first; echo second >&2; exit 7' >"$WORK/out" 2>"$WORK/err" || status=$?
  [ "$status" -eq 7 ] || fail "$u: exit status $status, expected 7"
  grep -q 'exit code 7' "$WORK/err" && grep -q '^  first$' "$WORK/err" && grep -q '^  second$' "$WORK/err" ||
    { cat "$WORK/err"; fail "$u: failure message lacks the status or last lines"; }

  # Exec form on a rootfs without any shell; the shell form fails there.
  noshell=$(user_dir "$u" "noshell-$u")
  make_noshell_rootfs "$noshell" "$u"
  out=$(as_sandbox_user "$u" "$KILN" run --scratch "$scratch" --rootfs "$noshell" -- /usr/bin/busybox echo distroless 2>/dev/null)
  [ "$out" = distroless ] || fail "$u: exec form on a shell-less rootfs gave '$out'"
  expect_run_error 'exec "/bin/sh": No such file or directory' \
    as_sandbox_user "$u" "$KILN" run -q --scratch "$scratch" --rootfs "$noshell" -- /bin/sh -c 'echo no'
  expect_run_error 'exec "missing": No such file or directory in PATH' \
    as_sandbox_user "$u" "$KILN" run -q --scratch "$scratch" --rootfs "$noshell" -- missing

  # A layer container root cannot reach fails at once, naming it, rather
  # than sending the run down the fallback drivers.
  if [ "$u" != self ]; then
    mkdir -p "$WORK/locked-$u"
    cp -a "$rootfs" "$WORK/locked-$u/rootfs"
    chmod 0700 "$WORK/locked-$u"
    expect_run_error 'layer directory ".*/locked-'"$u"'/rootfs".*Permission denied' \
      as_sandbox_user "$u" "$KILN" run -q --scratch "$scratch" --rootfs "$WORK/locked-$u/rootfs" -- /bin/true
  fi

  [ -z "$(ls -A "$scratch")" ] || { ls -la "$scratch"; fail "$u: temporary directories left in $scratch"; }
done
echo "sandbox run: ok"
