#!/bin/sh
# --network none gives a namespace with only loopback: a TCP server on the
# host's 127.0.0.1 is unreachable; --network host reaches it and gets the
# host's /etc/resolv.conf and /etc/hosts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sandbox_lib.sh"
need python3

mkdir -p "$WORK/www"
echo "served by the host" >"$WORK/www/index.html"
python3 -u -m http.server --bind 127.0.0.1 --directory "$WORK/www" 0 >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; cleanup' EXIT
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the host's HTTP server did not start: $(cat "$WORK/server.log")"
request="printf 'GET / HTTP/1.0\r\n\r\n' | nc 127.0.0.1 $port"

for u in $SANDBOX_USERS; do
  echo "== as $u"
  rootfs=$(busybox_rootfs_for "$u")
  run() { as_sandbox_user "$u" "$KILN" run --rootfs "$rootfs" "$@"; }

  out=$(run --network none -- /bin/sh -c "$request; echo links=\$(busybox ip -o link | wc -l); busybox ip -o link" 2>&1) || true
  ! echo "$out" | grep -q "served by the host" || fail "$u: --network none reached the host's server"
  echo "$out" | grep -q "Connection refused" || { echo "$out"; fail "$u: --network none: no refusal seen"; }
  echo "$out" | grep -q "links=1" || { echo "$out"; fail "$u: --network none has more than loopback"; }
  echo "$out" | grep -q "lo: <LOOPBACK,UP" || { echo "$out"; fail "$u: loopback inside --network none is not up"; }

  out=$(run --network host -- /bin/sh -c "$request; ls /etc" 2>&1) || { echo "$out"; fail "$u: host run failed"; }
  echo "$out" | grep -q "served by the host" || { echo "$out"; fail "$u: --network host did not reach the server"; }
  if [ -f /etc/resolv.conf ]; then
    echo "$out" | grep -q '^resolv.conf$' || fail "$u: no /etc/resolv.conf with --network host"
  fi
  # The provided files are mount points only, gone from the rootfs after.
  [ ! -e "$rootfs/etc/resolv.conf" ] || fail "$u: resolv.conf leaked into the lower dir"
done
echo "sandbox network: ok"
