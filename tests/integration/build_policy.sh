#!/bin/sh
# kiln build checks every base against the trust policy before extracting
# it: unsigned, signed by another key, or re-tagged after signing is
# refused; the right policy lets the build through on the verified digest.
. "$(dirname "$0")/lib.sh"
need busybox python3
cd "$WORK"
export KILN_PASSWORD=test-password SOURCE_DATE_EPOCH=1700000000

"$KILN" keygen --output-key-prefix publisher >/dev/null 2>&1 || fail "keygen publisher"
"$KILN" keygen --output-key-prefix other >/dev/null 2>&1 || fail "keygen other"

mkdir -p base/bin && cp "$(command -v busybox)" base/bin/busybox && ln -s busybox base/bin/sh
signed=$("$KILN" import -q base -t oci:"$WORK/bases":signed)
"$KILN" sign --key publisher.key oci:"$WORK/bases":signed >/dev/null 2>&1 || fail "sign the base"
"$KILN" import -q base -t oci:"$WORK/bases":unsigned --label unsigned=yes >/dev/null
"$KILN" import -q base -t oci:"$WORK/bases":by-other --label other=yes >/dev/null
"$KILN" sign --key other.key oci:"$WORK/bases":by-other >/dev/null 2>&1 || fail "sign with the other key"

cat > kiln.toml <<POLICY
[[trust]]
scope = "oci:$WORK/bases"
require = "signed"
keys = ["publisher.pub"]
POLICY

build() { # TAG -> builds FROM oci:bases:TAG
  mkdir -p "ctx-$1"
  printf 'FROM oci:%s/bases:%s\nRUN ["/bin/busybox", "touch", "/built"]\n' "$WORK" "$1" > "ctx-$1/Containerfile"
  "$KILN" build -q --policy kiln.toml -t oci:"$WORK/out":"$1" "ctx-$1"
}

out=$(build signed) || fail "a base signed by the policy's key was refused"
"$KILN" inspect --raw manifest oci:"$WORK/out":signed | grep -q "\"org.opencontainers.image.base.digest\":\"$signed\"" ||
  fail "the verified base digest is not recorded"
expect_error "refused by" build unsigned
expect_error "refused by" build by-other

# Re-tag: point "signed" at another image after signing; its digest has no signature.
"$KILN" import -q base -t oci:"$WORK/bases":signed --label retagged=yes >/dev/null
expect_error "refused by" build signed

# A later stage's base is checked (and extracted) ahead, while the first
# stage builds; its messages still come at its own FROM, and a refusal
# stops the build there without extracting anything of it.
for tag in first second; do
  "$KILN" import -q base -t oci:"$WORK/bases":$tag --label $tag=yes >/dev/null
  "$KILN" sign --key publisher.key oci:"$WORK/bases":$tag >/dev/null 2>&1 || fail "sign $tag"
done
two_stage() { # TAG of the second stage's base, then kiln's options
  tag=$1
  shift
  mkdir -p "two-$tag"
  printf 'FROM oci:%s/bases:first AS first\nRUN ["/bin/busybox", "sleep", "0.3"]\nFROM oci:%s/bases:%s\nCOPY --from=first /bin/busybox /copied\n' \
    "$WORK" "$WORK" "$tag" > "two-$tag/Containerfile"
  "$KILN" build "$@" --policy kiln.toml -t oci:"$WORK/out":"two-$tag" "two-$tag"
}
out=$(two_stage second 2>&1) || fail "two signed bases were refused: $out"
echo "$out" | awk '/^\[2\/2\] STEP 1\// { at = NR } /bases:second: verified/ { v = NR } END { exit !(at && v > at) }' ||
  fail "the second base's verification was not reported at its FROM: $out"
chains_before=$(ls "$XDG_CACHE_HOME/kiln/rootfs/"*/ | grep -vc lock)
expect_error "Containerfile:3: FROM oci:$WORK/bases:unsigned (sha256:" two_stage unsigned -q
expect_error "refused by" two_stage unsigned -q
[ "$(ls "$XDG_CACHE_HOME/kiln/rootfs/"*/ | grep -vc lock)" = "$chains_before" ] ||
  fail "a refused base was extracted"

# A scope that rejects, and insecure-accept-anything.
cat > reject.toml <<POLICY
[[trust]]
scope = "*"
require = "reject"
POLICY
expect_error "refused by" "$KILN" build -q --policy reject.toml -t oci:"$WORK/out":x ctx-unsigned
cat > open.toml <<POLICY
[[trust]]
scope = "*"
require = "insecure-accept-anything"
POLICY
"$KILN" build -q --policy open.toml -t oci:"$WORK/out":open ctx-unsigned >/dev/null || fail "insecure-accept-anything"
[ ! -e "$WORK/out/blobs" ] || [ "$(ls "$WORK/out")" ] || true
echo ok
