#!/bin/sh
# SIGTERM or SIGINT to kiln during a long command kills the sandboxed
# process tree and leaves no mount and no temporary directory behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"
need pgrep

# A distinctive duration so that pgrep finds only our sleep.
nap=4173
for u in $SANDBOX_USERS; do
  for sig in TERM INT; do
    echo "== as $u, SIG$sig"
    rootfs=$(busybox_rootfs_for "$u" "$sig")
    scratch=$(user_dir "$u" "scratch-$u-$sig")
    cat /proc/self/mountinfo >"$WORK/mounts-before"
    as_sandbox_user "$u" "$KILN" run --scratch "$scratch" --rootfs "$rootfs" -- \
      /bin/sh -c "echo started; touch /tmp/partial; sleep $nap; echo never" >"$WORK/out" 2>"$WORK/err" &
    waiter=$!
    # Wait (bounded) until the sleep runs; the shell prints before it execs it.
    for _ in $(seq 600); do
      pgrep -x -f "sleep $nap" >/dev/null && break
      sleep 0.1
    done
    grep -q started "$WORK/out" || { cat "$WORK/err"; fail "$u: the command did not start"; }
    pgrep -x -f "sleep $nap" >/dev/null || fail "$u: the sandboxed sleep is not running"
    # The oldest match is kiln itself; its forks inside the namespaces share
    # its command line.
    kiln_pid=$(pgrep -o -f "^$KILN run --scratch $scratch ")
    [ -n "$kiln_pid" ] || fail "$u: kiln's pid not found"
    kill -"$sig" "$kiln_pid"
    status=0
    wait "$waiter" || status=$?
    want=143
    [ "$sig" = INT ] && want=130
    [ "$status" -eq "$want" ] || { cat "$WORK/err"; fail "$u: kiln exited $status after SIG$sig, expected $want"; }
    grep -q "cancelled by SIG$sig; sandbox stopped and cleaned up" "$WORK/err" || { cat "$WORK/err"; fail "$u: no cancel message"; }
    ! grep -q never "$WORK/out" || fail "$u: the command ran on"
    ! pgrep -x -f "sleep $nap" >/dev/null || fail "$u: the sandboxed sleep survived"
    ! grep -q "$scratch" /proc/self/mountinfo || fail "$u: a mount under $scratch is left"
    diff "$WORK/mounts-before" /proc/self/mountinfo >/dev/null || fail "$u: the host's mount table changed"
    [ -z "$(ls -A "$scratch")" ] || { ls -la "$scratch"; fail "$u: temporary directories left in $scratch"; }
  done
done
echo "sandbox signals: ok"
