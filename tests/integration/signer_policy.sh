#!/bin/sh
# The trust policy (kiln.toml [[trust]]) as `kiln verify` applies it, the
# same check kiln build makes before using a base: unsigned, foreign-key and
# re-tagged bases are refused with the scope and the reason; the publisher's
# signature is accepted; lookup order --policy, $KILN_POLICY, ./kiln.toml,
# $XDG_CONFIG_HOME/kiln/kiln.toml. Also run as the unprivileged user.
. "$(dirname "$0")/lib.sh"
need umoci skopeo
cd "$WORK"
export KILN_PASSWORD=pw
mkdir -p bases conf/keys
umoci init --layout bases/debian
umoci new --image bases/debian:12
umoci new --image bases/debian:unsigned
mkdir -p rootfs && echo x >rootfs/x && tar -C rootfs -cf layer.tar .
umoci raw add-layer --image bases/debian:12 --tag other layer.tar
"$KILN" keygen --output-key-prefix publisher >/dev/null
"$KILN" keygen --output-key-prefix stranger >/dev/null
mv publisher.pub conf/keys/
cat >conf/kiln.toml <<TOML
[[trust]]
scope = "*"
require = "reject"

[[trust]]
scope = "oci:$WORK/bases"
require = "signed"
keys = ["keys/publisher.pub"]

[[trust]]
scope = "oci:$WORK/bases/debian-vuln"
require = "signed"
keys = ["keys/publisher.pub"]
attestations = ["vuln"]
TOML

expect_error "has none" "$KILN" verify --policy conf/kiln.toml oci:bases/debian:12
"$KILN" sign --key stranger.key oci:bases/debian:12 >/dev/null
expect_error "scope \"oci:$WORK/bases\": no signature" "$KILN" verify --policy conf/kiln.toml oci:bases/debian:12
"$KILN" sign --key publisher.key oci:bases/debian:12 >/dev/null
"$KILN" verify --policy conf/kiln.toml oci:bases/debian:12 | grep -q "signed by ECDSA P-256 key" \
  || fail "the publisher's signature was not accepted"
as_user "$KILN" verify --policy "$WORK/conf/kiln.toml" "oci:$WORK/bases/debian:12" >/dev/null \
  || fail "the unprivileged user cannot verify by policy"

# Re-tagged after signing: 12 now names another manifest, whose .sig is a copy of the old one.
cp -r bases/debian bases/retagged
/usr/bin/python3 - "$WORK/bases/retagged" <<'PY'
import json, sys
d = sys.argv[1]
index = json.load(open(d + "/index.json"))
name = lambda m: m.get("annotations", {}).get("org.opencontainers.image.ref.name")
signed = next(m for m in index["manifests"] if name(m) == "12")
other = next(m for m in index["manifests"] if name(m) == "other")
sig = next(m for m in index["manifests"] if name(m) == signed["digest"].replace(":", "-") + ".sig")
signed["digest"], signed["size"] = other["digest"], other["size"]
index["manifests"].append(dict(sig, annotations=dict(sig["annotations"], **{
    "org.opencontainers.image.ref.name": other["digest"].replace(":", "-") + ".sig"})))
json.dump(index, open(d + "/index.json", "w"))
PY
expect_error "payload is for" "$KILN" verify --policy conf/kiln.toml oci:bases/retagged:12

# Out of scope: refused by "*".
umoci init --layout elsewhere
umoci new --image elsewhere:1
"$KILN" sign --key publisher.key oci:elsewhere:1 >/dev/null
expect_error 'scope "\*" rejects every image' "$KILN" verify --policy conf/kiln.toml oci:elsewhere:1

# Required attestations.
cp -r bases/debian bases/debian-vuln
expect_error "requires a https://cosign.sigstore.dev/attestation/vuln/v1 attestation" \
  "$KILN" verify --policy conf/kiln.toml oci:bases/debian-vuln:12
cat >vuln.json <<'JSON'
{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"pkg:generic/kiln@0.1.0","version":"0.1.0","db":{"uri":"","version":""},"result":{}},"metadata":{"scanStartedOn":"2024-01-01T00:00:00Z","scanFinishedOn":"2024-01-01T00:01:00Z"}}
JSON
"$KILN" attest --key publisher.key --type vuln --predicate vuln.json oci:bases/debian-vuln:12 >/dev/null
"$KILN" verify --policy conf/kiln.toml oci:bases/debian-vuln:12 | grep -q "^Verified attestation https://cosign.sigstore.dev/attestation/vuln/v1" \
  || fail "the vuln attestation was not verified"

# Lookup order: $KILN_POLICY, ./kiln.toml, $XDG_CONFIG_HOME/kiln/kiln.toml.
KILN_POLICY=conf/kiln.toml "$KILN" verify oci:bases/debian:12 >/dev/null || fail "\$KILN_POLICY was not used"
expect_error "KILN_POLICY" env KILN_POLICY=absent.toml "$KILN" verify oci:bases/debian:12
(cd conf && "$KILN" verify "oci:$WORK/bases/debian:12" >/dev/null) || fail "./kiln.toml was not used"
mkdir -p xdg/kiln && cp conf/kiln.toml xdg/kiln/ && cp -r conf/keys xdg/kiln/
XDG_CONFIG_HOME=$WORK/xdg "$KILN" verify oci:bases/debian:12 >/dev/null || fail "\$XDG_CONFIG_HOME/kiln/kiln.toml was not used"
# A broken policy is one clear line.
printf '[[trust]]\nscope = "*"\nrequire = "signed"\nkeys = ["nope.pub"]\n' >broken.toml
expect_error "nope.pub" "$KILN" verify --policy broken.toml oci:bases/debian:12
echo "ok"
