#!/bin/sh
# kiln's main job end to end, from local files alone:
#   a Debian bookworm rootfs (mmdebstrap) → kiln import → signed by its publisher
#   → kiln build of examples/hello-python, whose FROM is verified against a trust
#     policy → scanned against an offline advisory DB → signed, with the scan and
#     SBOM attached as signed attestations → verified → unpacked and run.
set -eu
BUILD=${1:-build}
ROOT=$(pwd)
KILN="$ROOT/$BUILD/cli/kiln"
DEMO="$ROOT/$BUILD/demo"
mkdir -p "$DEMO"
cd "$DEMO"

step() { printf '\n== %s\n' "$*"; }

if [ ! -s bookworm.tar ]; then
  step "mmdebstrap: a minimal Debian bookworm rootfs with python3 (once; cached in $DEMO)"
  mmdebstrap --quiet --variant=minbase --include=python3 bookworm bookworm.tar.tmp
  mv bookworm.tar.tmp bookworm.tar
fi
rm -rf layout unpacked app.tar keys kiln.toml advisories.db cache
export SOURCE_DATE_EPOCH=1700000000
export KILN_PASSWORD=demo-password   # the demo's keys; real keys come from a prompt or a secret store

step "kiln import bookworm.tar -t oci:layout:bookworm (reproducible under SOURCE_DATE_EPOCH)"
"$KILN" import bookworm.tar -t oci:layout:bookworm --cmd '["/bin/bash"]'
again=$("$KILN" import -q bookworm.tar -t oci:layout:bookworm-again --cmd '["/bin/bash"]')
first=$("$KILN" inspect --raw manifest oci:layout:bookworm | sha256sum | cut -d' ' -f1)
[ "$again" = "sha256:$first" ] || { echo "demo: two imports of one tarball differ" >&2; exit 1; }
echo "imported twice, same digest: $again"

step "the base's publisher signs it (kiln keygen, kiln sign)"
mkdir -p keys
(cd keys && "$KILN" keygen --output-key-prefix publisher && "$KILN" keygen --output-key-prefix builder)
"$KILN" sign --key keys/publisher.key oci:layout:bookworm

step "a trust policy: bases from this layout must carry the publisher's signature"
cat > kiln.toml <<POLICY
[[trust]]
scope = "oci:$DEMO/layout"
require = "signed"
keys = ["keys/publisher.pub"]
POLICY
cat kiln.toml

# Real advisories only: the PyPA OSV snapshot from ../shared, when it is there.
scan=""
PYPA="$ROOT/../shared/data/pypa-osv/advisories.jsonl"
if [ -f "$PYPA" ]; then
  step "an offline advisory DB from the PyPA OSV snapshot (kiln db import)"
  "$KILN" db import "$PYPA" -o advisories.db
  scan="--scan --db advisories.db --max-db-age 0"
else
  step "no advisory snapshot at ../shared/data/pypa-osv: the build below is not scanned"
fi

step "kiln build examples/hello-python: verified FROM, rootless sandbox${scan:+, scan}, sign, attest"
# shellcheck disable=SC2086
"$KILN" build --policy kiln.toml --cache-dir "$DEMO/cache" \
  --build-arg BASE="oci:$DEMO/layout:bookworm" $scan --sign-key keys/builder.key \
  -t oci:layout:hello "$ROOT/examples/hello-python"

step "kiln inspect oci:layout:hello"
"$KILN" inspect oci:layout:hello

step "kiln verify and kiln verify-attestation (offline, with the builder's public key)"
"$KILN" verify --key keys/builder.pub oci:layout:hello
if [ -n "$scan" ]; then
  "$KILN" verify-attestation --key keys/builder.pub --type vuln oci:layout:hello
  "$KILN" verify-attestation --key keys/builder.pub --type cyclonedx oci:layout:hello
fi

step "a base the policy does not trust is refused before anything of it is extracted"
"$KILN" import -q bookworm.tar -t oci:layout:unsigned --label unsigned=yes >/dev/null
if "$KILN" build -q --policy kiln.toml --cache-dir "$DEMO/cache" --build-arg BASE="oci:$DEMO/layout:unsigned" \
  -t oci:layout:never "$ROOT/examples/hello-python"; then
  echo "demo: an unsigned base was accepted" >&2
  exit 1
fi

step "kiln fsck, kiln copy to an oci-archive"
"$KILN" fsck layout
"$KILN" copy oci:layout:hello oci-archive:app.tar:hello

step "unpack the image and run its entrypoint"
"$KILN" unpack oci:layout:hello unpacked
chroot unpacked /usr/bin/python3 /app/app.pyc
echo
echo "demo: ok"
