#!/bin/sh
# Bad input: one clear line naming the object and the cause, a non-zero
# exit, and nothing written.
. "$(dirname "$0")/lib.sh"
need umoci
cd "$WORK"
umoci init --layout good
umoci new --image good:v1
mkdir -p r && echo data > r/file && tar -C r -cf layer.tar .
umoci raw add-layer --image good:v1 --tag v1 layer.tar

fresh() { rm -rf "$1" && cp -r good "$1"; }
manifest_of() { python3 -c "import json,sys; d=json.load(open('$1/index.json')); print([m['digest'] for m in d['manifests'] if m.get('annotations',{}).get('org.opencontainers.image.ref.name')=='v1'][0].split(':')[1])"; }
layer_of() { python3 -c "import json; m=json.load(open('$1/blobs/sha256/$(manifest_of "$1")')); print(m['layers'][0]['digest'].split(':')[1])"; }

# A corrupted layer blob.
fresh corrupt
blob="corrupt/blobs/sha256/$(layer_of corrupt)"
chmod u+w "$blob"; printf 'X' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
# fsck reports each problem on its own line and a summary, then exits 1.
expect_problems() {
  pattern=$1
  shift
  if "$@" >"$WORK/.out" 2>"$WORK/.err"; then fail "fsck passed a broken layout: $*"; fi
  grep -q -- "$pattern" "$WORK/.err" || { cat "$WORK/.err" >&2; fail "fsck output lacks '$pattern'"; }
}
expect_problems "digest mismatch" "$KILN" fsck corrupt
expect_error "digest mismatch" "$KILN" copy oci:corrupt:v1 oci:dest-corrupt:v1
[ ! -e dest-corrupt ] || fail "a failed copy left the destination layout behind"
[ -z "$(ls -A "$WORK" | grep 'tmp-')" ] || fail "a failed copy left a temporary directory behind"
# Into an existing layout: valid blobs may stay, but no tag and no corrupt blob.
umoci init --layout existing
expect_error "digest mismatch" "$KILN" copy oci:corrupt:v1 oci:existing:other
grep -q '"other"' existing/index.json && fail "a failed copy tagged the image"
[ -z "$(find existing/blobs -name "$(layer_of corrupt)" -newer corrupt/index.json)" ] || fail "corrupt blob copied"

# A truncated index.json.
fresh truncated
head -c 20 good/index.json > truncated/index.json
expect_error "index.json" "$KILN" inspect oci:truncated:v1
expect_problems "index.json" "$KILN" fsck truncated

# A manifest naming a missing blob.
fresh missing
rm -f "missing/blobs/sha256/$(layer_of missing)"
expect_problems "blob is missing" "$KILN" fsck missing
expect_error "missing" "$KILN" copy oci:missing:v1 oci-archive:"$WORK/missing.tar":v1
[ ! -e missing.tar ] || fail "an archive was left behind"
[ -z "$(ls -A "$WORK" | grep '\.tmp-')" ] || fail "a temporary file was left behind"

# A non-sha256 digest.
fresh md5
python3 - <<'PY'
import json
p = "md5/index.json"
d = json.load(open(p))
d["manifests"][0]["digest"] = "md5:d41d8cd98f00b204e9800998ecf8427e"
json.dump(d, open(p, "w"))
PY
expect_error "unsupported digest algorithm \"md5\"" "$KILN" inspect oci:md5:v1

# A tag that does not exist; an unknown transport; a directory that is no layout.
expect_error "no such tag" "$KILN" inspect oci:good:nope
expect_error "not supported" "$KILN" inspect containers-storage:foo
expect_error "not an OCI image layout" "$KILN" fsck "$WORK/r"
expect_error "no such file" "$KILN" inspect oci-archive:"$WORK/none.tar"
expect_error "unknown option --bogus" "$KILN" inspect --bogus oci:good:v1

# fsck --gc refuses a broken layout and removes nothing.
before=$(find missing -type f | wc -l)
"$KILN" fsck --gc missing 2>/dev/null && fail "gc ran on a broken layout"
[ "$(find missing -type f | wc -l)" -eq "$before" ] || fail "gc removed files from a broken layout"
echo ok
