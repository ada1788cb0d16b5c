#!/bin/sh
# Every verdict of ../shared/interop/cosign-real/README.md from `kiln verify`:
# each fixture folder is converted, byte for byte, into an OCI layout
# (manifest.json as a blob, each signature-N as a .sig layer).
. "$(dirname "$0")/lib.sh"
need_shared interop/cosign-real
need python3
R="$SHARED_DIR/interop/cosign-real"
cd "$WORK"
for d in "$R"/dir-img-cosign-*; do
  python3 "$KILN_SOURCE_ROOT/tests/integration/signer/dir_to_layout.py" "$d" "$(basename "$d")" img
done

accept() {
  "$KILN" verify "$@" >"$WORK/.out" 2>"$WORK/.err" || { cat "$WORK/.err" >&2; fail "expected accept: $*"; }
  grep -q '^Verified sha256:' "$WORK/.out" || fail "no Verified line for: $*"
}
reject() {
  if "$KILN" verify "$@" >"$WORK/.out" 2>"$WORK/.err"; then
    fail "expected reject: $*"
  fi
  [ "$(wc -l <"$WORK/.err")" -eq 1 ] || { cat "$WORK/.err" >&2; fail "reject reason is not one line: $*"; }
  echo "  rejected ($(cut -c1-160 "$WORK/.err"))"
}

single=192.168.64.2:5000/cosign-signed-single-sample
fulcio="--ca-roots $R/fulcio_v1.crt.pem --rekor-key $R/rekor.pub --certificate-oidc-issuer https://github.com/login/oauth"
pki="--ca-roots $R/pki_root_crts.pem --ca-intermediates $R/pki_intermediate_crts.pem --certificate-hostname myhost.example.com"

# The main table.
accept --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-valid:img
accept --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-valid-2:img
accept --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-mixed:img
accept --key "$R/cosign.pub" --identity 192.168.64.2:5000/skopeo-signed:tag oci:dir-img-cosign-valid-with-tag:img
accept --key "$R/cosign2.pub" --rekor-key "$R/rekor.pub" --identity 192.168.64.2:5000/cosign-signed/key-1 \
  oci:dir-img-cosign-key-rekor-valid:img
# shellcheck disable=SC2086
accept $fulcio --certificate-identity mitr@redhat.com --identity 192.168.64.2:5000/cosign-signed/fulcio-rekor-1 \
  oci:dir-img-cosign-fulcio-rekor-valid:img
# shellcheck disable=SC2086
accept $pki --certificate-identity qiwan@redhat.com --identity localhost:5000/test oci:dir-img-cosign-pki-valid:img
reject --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-modified-manifest:img
reject --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-no-manifest:img
reject --key "$R/cosign.pub" --identity $single oci:dir-img-cosign-manifest-digest-error:img
reject --key "$R/cosign.pub" --identity testing/manifest oci:dir-img-cosign-other-attachment:img

# Further rows.
reject --key "$R/cosign2.pub" oci:dir-img-cosign-valid:img
accept --key "$R/cosign2.pub" --key "$R/cosign.pub" oci:dir-img-cosign-valid:img
reject --key "$R/cosign.pub" --identity $single:latest oci:dir-img-cosign-valid:img
reject --key "$R/cosign.pub" --identity testing/manifest oci:dir-img-cosign-valid:img
reject --key "$R/cosign.pub" --identity this/does-not:match oci:dir-img-cosign-valid-2:img
reject --key "$R/cosign.pub" --identity 192.168.64.2:5000/skopeo-signed:othertag oci:dir-img-cosign-valid-with-tag:img
accept --key "$R/cosign.pub" --key "$R/cosign2.pub" --rekor-key "$R/cosign.pub" --rekor-key "$R/rekor.pub" \
  oci:dir-img-cosign-key-rekor-valid:img
reject --key "$R/cosign2.pub" --rekor-key "$R/cosign.pub" oci:dir-img-cosign-key-rekor-valid:img
reject --key "$R/cosign.pub" oci:dir-img-cosign-key-rekor-valid:img
# shellcheck disable=SC2086
reject $fulcio --certificate-identity this-does-not-match@example.com oci:dir-img-cosign-fulcio-rekor-valid:img
reject --ca-roots "$R/fulcio_v1.crt.pem" --rekor-key "$R/cosign.pub" --certificate-identity mitr@redhat.com \
  oci:dir-img-cosign-fulcio-rekor-valid:img
# Without a Rekor key the chain is checked now, when the ten-minute Fulcio leaf has long expired.
reject --ca-roots "$R/fulcio_v1.crt.pem" --certificate-identity mitr@redhat.com oci:dir-img-cosign-fulcio-rekor-valid:img
# shellcheck disable=SC2086
reject $pki --certificate-identity someone@example.com oci:dir-img-cosign-pki-valid:img
# A BYO-PKI certificate does not chain to the Fulcio root; a plain key does not verify an RSA certificate's signature.
reject --ca-roots "$R/fulcio_v1.crt.pem" --certificate-identity qiwan@redhat.com oci:dir-img-cosign-pki-valid:img
reject --key "$R/cosign.pub" oci:dir-img-cosign-pki-valid:img
# The same Fulcio + Rekor trust as a sigstore trusted_root.json.
python3 - "$R" <<'PY'
import base64, json, sys
r = sys.argv[1]
der = lambda name: base64.b64encode(base64.b64decode("".join(
    l for l in open(r + "/" + name).read().splitlines() if not l.startswith("-----")))).decode()
json.dump({"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
           "tlogs": [{"baseUrl": "https://rekor.sigstore.dev", "hashAlgorithm": "SHA2_256",
                      "publicKey": {"rawBytes": der("rekor.pub"), "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}],
           "certificateAuthorities": [{"certChain": {"certificates": [{"rawBytes": der("fulcio_v1.crt.pem")}]}}],
           "ctlogs": [], "timestampAuthorities": []}, open("trusted_root.json", "w"))
PY
accept --trusted-root trusted_root.json --certificate-identity mitr@redhat.com \
  --certificate-oidc-issuer https://github.com/login/oauth oci:dir-img-cosign-fulcio-rekor-valid:img
reject --trusted-root trusted_root.json --certificate-identity mitr@redhat.com \
  --certificate-oidc-issuer https://accounts.google.com oci:dir-img-cosign-fulcio-rekor-valid:img
echo "ok: every verdict matches"
