#!/bin/sh
# The layer engine against real peers: kiln's layers (each compression) are
# unpacked by umoci and copied by skopeo; layers written by tar and by
# `umoci repack` are applied by kiln exactly as `umoci unpack` applies them;
# packing is reproducible; bad streams fail cleanly; and the unprivileged
# user gets an ownership record instead of silently lost owners.
. "$(dirname "$0")/lib.sh"
need umoci skopeo jq tar python3 sha256sum
[ "$(id -u)" -eq 0 ] || skip "the fixture tree needs root (owners, device nodes)"
COMPARE="$KILN_SOURCE_ROOT/tests/integration/compare_trees.py"

# make_image LAYOUT TAG [LAYER_FILE MEDIA_TYPE DIFF_ID]...: a one-platform
# OCI image around existing layer blobs, built by hand so that the blobs
# are exactly the bytes under test.
put_blob() {
  d=$(sha256sum "$2" | cut -d' ' -f1)
  cp "$2" "$1/blobs/sha256/$d"
  echo "sha256:$d $(stat -c %s "$2")"
}
make_image() {
  layout=$1 tag=$2
  shift 2
  mkdir -p "$layout/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  [ -f "$layout/index.json" ] || echo '{"schemaVersion":2,"manifests":[]}' >"$layout/index.json"
  layers='[]' diffs='[]'
  while [ $# -gt 0 ]; do
    set -- "$@"
    read -r digest size <<EOS
$(put_blob "$layout" "$1")
EOS
    layers=$(echo "$layers" | jq -c --arg mt "$2" --arg d "$digest" --argjson s "$size" '. + [{mediaType:$mt,digest:$d,size:$s}]')
    diffs=$(echo "$diffs" | jq -c --arg d "$3" '. + [$d]')
    shift 3
  done
  jq -cn --argjson diffs "$diffs" '{architecture:"amd64",os:"linux",config:{},rootfs:{type:"layers",diff_ids:$diffs}}' >"$WORK/.config"
  read -r cdigest csize <<EOS
$(put_blob "$layout" "$WORK/.config")
EOS
  jq -cn --argjson layers "$layers" --arg cd "$cdigest" --argjson cs "$csize" \
    '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},layers:$layers}' >"$WORK/.manifest"
  read -r mdigest msize <<EOS
$(put_blob "$layout" "$WORK/.manifest")
EOS
  jq -c --arg d "$mdigest" --argjson s "$msize" --arg t "$tag" \
    '.manifests = ([.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)] + [{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$d,size:$s,annotations:{"org.opencontainers.image.ref.name":$t}}])' \
    "$layout/index.json" >"$WORK/.index" && mv "$WORK/.index" "$layout/index.json"
}
field() { echo "$1" | jq -r ".$2"; }

# A fixture tree with every entry type and header field.
TREE=$WORK/tree
mkdir -p "$TREE/etc/ssl" "$TREE/usr/bin" "$TREE/ro" "$TREE/private" "$TREE/dev"
printf 'root:x:0:0::/root:/bin/sh\n' >"$TREE/etc/passwd"
printf '' >"$TREE/etc/empty"
head -c 3000000 /dev/urandom >"$TREE/usr/bin/blob"
printf '#!/bin/sh\necho hi\n' >"$TREE/usr/bin/su"
chmod 4755 "$TREE/usr/bin/su"
chmod 2755 "$TREE/usr/bin/blob"
ln "$TREE/usr/bin/su" "$TREE/usr/bin/su-hardlink"
ln -s ../etc/passwd "$TREE/usr/bin/rel-link"
ln -s /etc/passwd "$TREE/usr/bin/abs-link"
mkfifo "$TREE/private/fifo"
mknod "$TREE/dev/null" c 1 3
mknod "$TREE/dev/loop9" b 7 9
long=$TREE/etc/ssl/$(printf 'n%.0s' $(seq 1 140))
printf 'long\n' >"$long"
chown 1000:1001 "$TREE/etc/passwd"
chown -h 2000:2001 "$TREE/usr/bin/rel-link"
chown 100000:100001 "$TREE/private"
chmod 0700 "$TREE/private"
chmod 1777 "$TREE/etc/ssl"
printf 'ro\n' >"$TREE/ro/file"
chmod 0555 "$TREE/ro"
if setfattr -n user.kiln -v yes "$TREE/etc/passwd" 2>/dev/null; then :; fi

export SOURCE_DATE_EPOCH=1700000000
find "$TREE" -exec touch -h -d @1600000000 {} +

echo "kiln's layers are unpacked by umoci and copied by skopeo, in each compression"
for c in none gzip zstd; do
  out=$("$KILN" layer pack "$TREE" "$WORK/layer.$c" --compression "$c")
  mt=$(field "$out" mediaType)
  [ "$(field "$out" digest)" = "sha256:$(sha256sum "$WORK/layer.$c" | cut -d' ' -f1)" ] || fail "$c: digest does not match the file"
  [ "$(field "$out" size)" = "$(stat -c %s "$WORK/layer.$c")" ] || fail "$c: size does not match the file"
  case $c in
  gzip) [ "$(gzip -dc "$WORK/layer.$c" | sha256sum | cut -d' ' -f1)" = "$(field "$out" diffID | cut -d: -f2)" ] || fail "gzip -d disagrees with the diffID" ;;
  zstd) [ "$(zstd -dc "$WORK/layer.$c" | sha256sum | cut -d' ' -f1)" = "$(field "$out" diffID | cut -d: -f2)" ] || fail "zstd -d disagrees with the diffID" ;;
  esac
  make_image "$WORK/img-$c" t "$WORK/layer.$c" "$mt" "$(field "$out" diffID)"
  skopeo copy -q "oci:$WORK/img-$c:t" "oci:$WORK/copy-$c:t" || fail "skopeo copy refused kiln's $c layer"
  unpack_from=$WORK/img-$c
  if [ $c = zstd ]; then
    # Debian's umoci 0.4.7 predates zstd layers: skopeo decompresses kiln's
    # zstd stream and recompresses it with gzip for umoci to read.
    skopeo copy -q --dest-compress-format gzip "oci:$WORK/img-$c:t" "oci:$WORK/conv-$c:t" ||
      fail "skopeo could not decompress kiln's zstd layer"
    unpack_from=$WORK/conv-$c
  fi
  umoci unpack --image "$unpack_from:t" "$WORK/bundle-$c" >/dev/null 2>&1 || fail "umoci unpack refused kiln's $c layer"
  python3 "$COMPARE" --mtime "$TREE" "$WORK/bundle-$c/rootfs" || fail "umoci unpack of kiln's $c layer differs from the tree"
  "$KILN" unpack "oci:$WORK/img-$c:t" "$WORK/kiln-$c" >/dev/null
  python3 "$COMPARE" --mtime "$TREE" "$WORK/kiln-$c" || fail "kiln unpack of its own $c layer differs from the tree"
done

echo "a layer written by tar is applied by kiln as umoci unpack applies it"
tar --numeric-owner --xattrs -C "$TREE" -cf "$WORK/tar.tar" .
make_image "$WORK/img-tar" t "$WORK/tar.tar" application/vnd.oci.image.layer.v1.tar "sha256:$(sha256sum "$WORK/tar.tar" | cut -d' ' -f1)"
umoci unpack --image "$WORK/img-tar:t" "$WORK/bundle-tar" >/dev/null 2>&1
"$KILN" unpack "oci:$WORK/img-tar:t" "$WORK/kiln-tar" >/dev/null
python3 "$COMPARE" --mtime "$WORK/bundle-tar/rootfs" "$WORK/kiln-tar" || fail "kiln and umoci apply tar's layer differently"

echo "a layer written by umoci repack (with whiteouts) is applied by kiln as umoci applies it"
B=$WORK/bundle-gzip
rm -rf "$B/rootfs/usr/bin/su" "$B/rootfs/ro"
printf 'added\n' >"$B/rootfs/etc/added"
umoci repack --image "$WORK/img-gzip:t2" "$B" >/dev/null 2>&1 || fail "umoci repack failed"
umoci unpack --image "$WORK/img-gzip:t2" "$WORK/bundle-repack" >/dev/null 2>&1
"$KILN" unpack "oci:$WORK/img-gzip:t2" "$WORK/kiln-repack" >/dev/null
[ ! -e "$WORK/kiln-repack/ro" ] || fail "the whiteout of ro/ was not applied"
python3 "$COMPARE" --mtime "$WORK/bundle-repack/rootfs" "$WORK/kiln-repack" || fail "kiln and umoci apply umoci's repacked layer differently"

echo "packing is reproducible across real mtimes and creation order"
mkdir -p "$WORK/r1/a/b" "$WORK/r2"
printf 'x\n' >"$WORK/r1/a/b/x"
printf 'y\n' >"$WORK/r1/a/y"
mkdir -p "$WORK/r2/a"
printf 'y\n' >"$WORK/r2/a/y"
mkdir -p "$WORK/r2/a/b"
printf 'x\n' >"$WORK/r2/a/b/x"
touch -d @1800000000 "$WORK/r2/a/y"
d1=$(field "$("$KILN" layer pack "$WORK/r1" "$WORK/r1.tgz")" digest)
d2=$(field "$("$KILN" layer pack "$WORK/r2" "$WORK/r2.tgz")" digest)
[ "$d1" = "$d2" ] || fail "same tree, different digests: $d1 $d2"

echo "bad streams fail with one line and leave nothing behind"
head -c 100000 "$WORK/layer.gzip" >"$WORK/truncated.gz"
mkdir "$WORK/t"
expect_error "truncated" "$KILN" layer apply "$WORK/truncated.gz" "$WORK/t"
expect_error "diff_id mismatch" "$KILN" layer apply "$WORK/layer.zstd" "$WORK/t" --diff-id "sha256:$(printf x | sha256sum | cut -d' ' -f1)"
cp -r "$WORK/img-zstd" "$WORK/img-bad"
blob=$(jq -r '.layers[0].digest' "$WORK/img-bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/img-bad/index.json" | cut -d: -f2)" | cut -d: -f2)
python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0x55; open(p,'wb').write(b)" "$WORK/img-bad/blobs/sha256/$blob"
expect_error "img-bad" "$KILN" unpack "oci:$WORK/img-bad:t" "$WORK/unpack-bad"
[ ! -e "$WORK/unpack-bad" ] || fail "a failed unpack left its directory"
[ -z "$(ls -A "$WORK" | grep kiln-unpack)" ] || fail "a failed unpack left its temporary directory"

echo "without privilege, owners and devices are recorded, not dropped"
id "$ROOTLESS_USER" >/dev/null 2>&1 || skip "user $ROOTLESS_USER is missing (scripts/setup-test-users.sh makes it)"
chmod -R a+rX "$WORK/img-gzip"
mkdir "$WORK/u"
chown "$ROOTLESS_USER" "$WORK/u"
as_user "$KILN" unpack "oci:$WORK/img-gzip:t" "$WORK/u/unpack" --ownership "$WORK/u/owners.json" 2>"$WORK/user.err" >/dev/null ||
  { cat "$WORK/user.err"; fail "unprivileged unpack failed"; }
grep -q "skipping device node \"dev/null\"" "$WORK/user.err" || { cat "$WORK/user.err"; fail "no warning for the skipped device"; }
jq -e '.entries[] | select(.path == "etc/passwd" and .uid == 1000 and .gid == 1001)' "$WORK/u/owners.json" >/dev/null || fail "etc/passwd's owner is not recorded"
jq -e '.entries[] | select(.path == "dev/loop9" and .type == "block" and .skipped == true and .device == [7,9])' "$WORK/u/owners.json" >/dev/null || fail "dev/loop9 is not recorded"
python3 "$COMPARE" --no-owner --mtime --ignore dev/null --ignore dev/loop9 "$TREE" "$WORK/u/unpack" || fail "the unprivileged unpack differs beyond owners and devices"
echo "ok"
