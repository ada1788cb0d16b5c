#!/bin/sh
# Creates the unprivileged users the rootless integration tests run as:
#   kiln-test    with a 65536-id range in /etc/subuid and /etc/subgid
#   kiln-nosub   with no range (single-id mapping)
set -eu
for user in kiln-test kiln-nosub; do
  if ! id "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$user"
  fi
done
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  grep -q '^kiln-test:' "$f" || echo "kiln-test:300000:65536" >> "$f"
  sed -i '/^kiln-nosub:/d' "$f"
done
