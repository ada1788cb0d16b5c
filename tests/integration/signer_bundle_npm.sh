#!/bin/sh
# `kiln sign --bundle` writes a sigstore bundle v0.3 referrer that npm's
# @sigstore/verify 3.1.1 accepts offline with the key, and rejects with
# another key. The packages are installed into a cache directory by npm.
. "$(dirname "$0")/lib.sh"
need umoci node npm /usr/bin/python3
CACHE=${KILN_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln-tests}/npm-sigstore
MODULES=$CACHE/node_modules
if [ ! -f "$MODULES/@sigstore/verify/package.json" ] ||
   ! grep -q '"version": "3.1.1"' "$MODULES/@sigstore/verify/package.json"; then
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --silent \
    @sigstore/verify@3.1.1 @sigstore/bundle@4.0.0 @sigstore/core@3.2.1 >/dev/null 2>&1 ||
    skip "npm could not install @sigstore/verify@3.1.1 (registry unreachable?)"
fi
cd "$WORK"
export KILN_PASSWORD=pw
umoci init --layout img
umoci new --image img:app
"$KILN" keygen >/dev/null
"$KILN" keygen --output-key-prefix stranger >/dev/null
"$KILN" sign --key cosign.key --bundle --identity registry.example.com/ns/app:1 oci:img:app >out.txt
referrer=$(sed -n 's/^Bundle referrer manifest sha256:\([0-9a-f]*\)$/\1/p' out.txt)
[ -n "$referrer" ] || fail "kiln sign --bundle did not name the referrer"
/usr/bin/python3 - "$referrer" <<'PY' || fail "the referrer manifest or bundle is malformed"
import base64, json, sys
blob = lambda d: open("img/blobs/sha256/" + d.split(":")[-1], "rb").read()
ref = json.loads(blob(sys.argv[1]))
assert ref["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
assert blob(ref["config"]["digest"]) == b"{}"
index = json.load(open("img/index.json"))
app = next(m for m in index["manifests"] if m["annotations"].get("org.opencontainers.image.ref.name") == "app")
assert ref["subject"]["digest"] == app["digest"] and ref["subject"]["size"] == app["size"]
bundle = blob(ref["layers"][0]["digest"])
open("bundle.json", "wb").write(bundle)
statement = json.loads(base64.b64decode(json.loads(bundle)["dsseEnvelope"]["payload"]))
assert list(statement) == ["_type", "subject", "predicateType", "predicate"], list(statement)
# @sigstore/verify does not compare subjects with the image: check it here.
assert statement["subject"][0]["digest"]["sha256"] == app["digest"].split(":")[1]
assert statement["predicateType"] == "https://sigstore.dev/cosign/sign/v1"
PY
node "$KILN_SOURCE_ROOT/tests/integration/signer/verify_bundle.js" "$MODULES" bundle.json cosign.pub ||
  fail "@sigstore/verify rejects kiln's bundle"
if node "$KILN_SOURCE_ROOT/tests/integration/signer/verify_bundle.js" "$MODULES" bundle.json stranger.pub 2>/dev/null; then
  fail "@sigstore/verify accepted the bundle with another key"
fi
echo "ok"
