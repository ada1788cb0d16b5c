#!/bin/sh
# kiln sign / attest / verify / verify-attestation on an OCI layout, checked
# by tools kiln did not write: python3-cryptography verifies the ECDSA
# signature over the payload blob read from the layout, skopeo reads the
# .sig manifest. Every bad input fails with one line and a non-zero status.
. "$(dirname "$0")/lib.sh"
need umoci skopeo /usr/bin/python3
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is missing"
cd "$WORK"
export KILN_PASSWORD=pw

umoci init --layout img
umoci new --image img:base
mkdir -p rootfs/etc && echo signed > rootfs/etc/content
tar -C rootfs -cf layer.tar .
umoci raw add-layer --image img:base --tag app layer.tar
echo other > rootfs/etc/content
tar -C rootfs -cf layer2.tar .
umoci raw add-layer --image img:base --tag other layer2.tar
"$KILN" keygen >/dev/null
"$KILN" keygen --output-key-prefix stranger >/dev/null
digest=$(skopeo inspect --format '{{.Digest}}' oci:img:app)
hex=${digest#sha256:}

# Unsigned first.
expect_error "no signature" "$KILN" verify --key cosign.pub oci:img:app

"$KILN" sign --key cosign.key -a team=blue --identity registry.example.com/ns/app:1.0 oci:img:app | grep -q "^Signed $digest" \
  || fail "kiln sign did not report the digest"
"$KILN" sign --key cosign.key -a team=blue --identity registry.example.com/ns/app:1.0 oci:img:app | grep -q "^Already signed" \
  || fail "re-signing the same payload with the same key added a layer"
"$KILN" verify --key cosign.pub -a team=blue --identity registry.example.com/ns/app:1.0 oci:img:app >out.txt
grep -q "signed by ECDSA P-256 key SHA256:" out.txt || fail "verify does not name the key"

# skopeo reads the signature manifest by its tag.
skopeo inspect --raw "oci:img:sha256-$hex.sig" >sig-manifest.json || fail "skopeo cannot read the .sig manifest"
grep -q '"application/vnd.dev.cosign.simplesigning.v1+json"' sig-manifest.json || fail "no simple-signing layer"
[ "$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open("sig-manifest.json"))["layers"]))')" = 1 ] \
  || fail "the .sig manifest does not have exactly one layer"

# python3-cryptography verifies the signature over the payload blob in the layout.
/usr/bin/python3 - "$hex" <<'PY' || fail "python3-cryptography rejects kiln's signature"
import base64, hashlib, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
hexd = sys.argv[1]
index = json.load(open("img/index.json"))
entry = next(m for m in index["manifests"]
             if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "sha256-%s.sig" % hexd)
assert entry["annotations"]["kind"] == "dev.cosignproject.cosign/sigs"
blob = lambda d: open("img/blobs/sha256/" + d.split(":")[1], "rb").read()
manifest = json.loads(blob(entry["digest"]))
layer = manifest["layers"][0]
payload = blob(layer["digest"])
assert hashlib.sha256(payload).hexdigest() == layer["digest"].split(":")[1]
doc = json.loads(payload)
assert doc["critical"]["image"]["docker-manifest-digest"] == "sha256:" + hexd
assert doc["critical"]["identity"]["docker-reference"] == "registry.example.com/ns/app:1.0"
assert doc["optional"] == {"team": "blue"}
key = serialization.load_pem_public_key(open("cosign.pub", "rb").read())
key.verify(base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"]), payload,
           ec.ECDSA(hashes.SHA256()))
print("python3-cryptography verified the payload signature")
PY

# Bad input, each one line.
expect_error "does not verify" "$KILN" verify --key stranger.pub oci:img:app
expect_error "lacks annotation team=red" "$KILN" verify --key cosign.pub -a team=red oci:img:app
expect_error "does not match" "$KILN" verify --key cosign.pub --identity registry.example.com/ns/app:2.0 oci:img:app
# A payload for another digest: app's .sig copied as other's.
other=$(skopeo inspect --format '{{.Digest}}' oci:img:other)
sigdesc=$(/usr/bin/python3 -c "
import json; i=json.load(open('img/index.json'))
print(json.dumps(next(m for m in i['manifests'] if m['annotations'].get('org.opencontainers.image.ref.name','').endswith('.sig'))))")
/usr/bin/python3 - "$other" "$sigdesc" <<'PY'
import json, sys
other, desc = sys.argv[1], json.loads(sys.argv[2])
index = json.load(open("img/index.json"))
desc["annotations"]["org.opencontainers.image.ref.name"] = other.replace(":", "-") + ".sig"
index["manifests"].append(desc)
json.dump(index, open("img/index.json", "w"))
PY
expect_error "payload is for $digest" "$KILN" verify --key cosign.pub oci:img:other
# A modified manifest: the tag moved to other's manifest after app was signed.
cp -r img moved
/usr/bin/python3 - "$other" <<'PY'
import json, sys
index = json.load(open("moved/index.json"))
for m in index["manifests"]:
    if m["annotations"].get("org.opencontainers.image.ref.name") == "other":
        m["annotations"]["org.opencontainers.image.ref.name"] = "gone"
for m in index["manifests"]:
    if m["annotations"].get("org.opencontainers.image.ref.name") == "app":
        m["digest"] = sys.argv[1]
json.dump(index, open("moved/index.json", "w"))
PY
expect_error "payload is for" "$KILN" verify --key cosign.pub oci:moved:app
# A truncated key file, a wrong password, a public key as the signing key.
head -c 200 cosign.key >truncated.key
expect_error "truncated.key" "$KILN" sign --key truncated.key oci:img:app
expect_error "wrong password" env KILN_PASSWORD=nope "$KILN" sign --key cosign.key oci:img:app
expect_error "not a private key" "$KILN" sign --key cosign.pub oci:img:app
expect_error "registry transport" "$KILN" verify --key cosign.pub docker://example.com/app:1

# Attestations: vuln, replace, type filter, garbage envelope.
cat >vuln.json <<'JSON'
{"invocation":{"parameters":null,"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"pkg:generic/kiln@0.1.0","version":"0.1.0","db":{"uri":"","version":""},"result":{"matches":[]}},"metadata":{"scanStartedOn":"2024-01-01T00:00:00Z","scanFinishedOn":"2024-01-01T00:01:00Z"}}
JSON
echo '{"bomFormat":"CycloneDX","specVersion":"1.5"}' >bom.json
"$KILN" attest --key cosign.key --type vuln --predicate vuln.json oci:img:app >/dev/null
"$KILN" attest --key cosign.key --type cyclonedx --predicate bom.json oci:img:app >/dev/null
"$KILN" attest --key cosign.key --type vuln --predicate vuln.json --replace oci:img:app >/dev/null
"$KILN" verify-attestation --key cosign.pub --type vuln --print-predicate oci:img:app >att.txt
[ "$(grep -c '^Verified attestation https://cosign.sigstore.dev/attestation/vuln/v1' att.txt)" = 1 ] \
  || fail "--replace did not leave exactly one vuln attestation"
grep -q '"scanFinishedOn": "2024-01-01T00:01:00Z"' att.txt || fail "--print-predicate did not print the predicate"
"$KILN" verify-attestation --key cosign.pub --type cyclonedx oci:img:app | grep -q cyclonedx.org/bom \
  || fail "the cyclonedx attestation was lost"
expect_error "predicate type is" "$KILN" verify-attestation --key cosign.pub --type slsaprovenance oci:img:app
expect_error "no DSSE signature verifies" "$KILN" verify-attestation --key stranger.pub oci:img:app
expect_error "not an RFC 3339" "$KILN" attest --key cosign.key --type vuln --predicate bom.json oci:img:app
skopeo inspect --raw "oci:img:sha256-$hex.att" | grep -q '"predicateType":"https://cosign.sigstore.dev/attestation/vuln/v1"' \
  || fail "skopeo cannot read the .att manifest"
/usr/bin/python3 - "$hex" <<'PY'
import hashlib, json, sys
index = json.load(open("img/index.json"))
tag = "sha256-%s.att" % sys.argv[1]
entry = next(m for m in index["manifests"] if m["annotations"].get("org.opencontainers.image.ref.name") == tag)
path = lambda d: "img/blobs/sha256/" + d.split(":")[1]
manifest = json.load(open(path(entry["digest"])))
garbage = b"{garbage"
digest = "sha256:" + hashlib.sha256(garbage).hexdigest()
open(path(digest), "wb").write(garbage)
for layer in manifest["layers"]:
    layer["digest"], layer["size"] = digest, len(garbage)
data = json.dumps(manifest, separators=(",", ":")).encode()
mdigest = "sha256:" + hashlib.sha256(data).hexdigest()
open(path(mdigest), "wb").write(data)
entry["digest"], entry["size"] = mdigest, len(data)
json.dump(index, open("img/index.json", "w"))
PY
expect_error "DSSE envelope" "$KILN" verify-attestation --key cosign.pub oci:img:app

# An index: kiln signs the index and each platform manifest.
/usr/bin/python3 - "$digest" <<'PY'
import hashlib, json, os, sys
index = json.load(open("img/index.json"))
app = next(m for m in index["manifests"] if m["annotations"].get("org.opencontainers.image.ref.name") == "app")
multi = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": [{"mediaType": app["mediaType"], "digest": app["digest"], "size": app["size"],
                                   "platform": {"architecture": "amd64", "os": "linux"}}]},
                   separators=(",", ":")).encode()
d = hashlib.sha256(multi).hexdigest()
open("img/blobs/sha256/" + d, "wb").write(multi)
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
                           "size": len(multi), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(index, open("img/index.json", "w"))
PY
"$KILN" sign --key stranger.key --identity registry.example.com/ns/app:multi oci:img:multi >multi.txt
[ "$(grep -c '^Signed ' multi.txt)" = 2 ] || { cat multi.txt; fail "an index and its manifest were not both signed"; }
"$KILN" verify --key stranger.pub oci:img:multi >/dev/null || fail "the index signature does not verify"
"$KILN" verify --key stranger.pub oci:img:app >/dev/null || fail "the platform manifest signature does not verify"
echo "ok"
