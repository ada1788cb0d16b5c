#!/bin/sh
# kiln scan REF, and kiln build --scan --sign-key: the written image is
# scanned, signed, and carries the vuln report and the CycloneDX SBOM as
# signed attestations that kiln verify-attestation accepts.
. "$(dirname "$0")/lib.sh"
need busybox python3
cd "$WORK"
export KILN_PASSWORD=pw SOURCE_DATE_EPOCH=1700000000

# One advisory (a record written for this test): demo-pkg < 1.1, critical.
cat > osv.json <<'OSV'
{"id":"KILN-TEST-1","modified":"2024-01-01T00:00:00Z","summary":"demo-pkg before 1.1 runs arbitrary code",
 "affected":[{"package":{"ecosystem":"PyPI","name":"demo-pkg"},
   "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1"}]}]}],
 "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
OSV
"$KILN" db import osv.json -o advisories.db >/dev/null 2>&1 || fail "db import"
"$KILN" keygen --output-key-prefix builder >/dev/null 2>&1 || fail "keygen"

mkdir -p base/bin base/usr/lib/python3/dist-packages/demo_pkg-1.0.dist-info
cp "$(command -v busybox)" base/bin/busybox && ln -s busybox base/bin/sh
printf 'Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n' > base/usr/lib/python3/dist-packages/demo_pkg-1.0.dist-info/METADATA
"$KILN" import -q base -t oci:"$WORK/bases":py >/dev/null

# kiln scan REF finds it; --fail-on critical exits 3.
"$KILN" scan oci:"$WORK/bases":py --db advisories.db > scan.txt 2>/dev/null || fail "kiln scan REF"
grep -q KILN-TEST-1 scan.txt || { cat scan.txt; fail "kiln scan REF missed the advisory"; }
set +e
"$KILN" scan oci:"$WORK/bases":py --db advisories.db --fail-on critical >/dev/null 2>&1
[ $? -eq 3 ] || fail "kiln scan --fail-on critical did not exit 3"
set -e

mkdir -p ctx
printf 'FROM oci:%s/bases:py\nRUN ["/bin/busybox", "touch", "/built"]\n' "$WORK" > ctx/Containerfile
"$KILN" build -q --insecure-allow-unverified-base --scan --db advisories.db --sign-key builder.key \
  -t oci:"$WORK/out":v1 ctx > digest.txt 2>build.err || { cat build.err; fail "build --scan --sign-key"; }
grep -q KILN-TEST-1 build.err || fail "build --scan printed no finding"
"$KILN" verify --key builder.pub oci:"$WORK/out":v1 >/dev/null 2>&1 || fail "the built image's signature"
"$KILN" verify-attestation --key builder.pub --type vuln oci:"$WORK/out":v1 > vuln.txt 2>&1 ||
  { cat vuln.txt; fail "the vuln attestation"; }
"$KILN" verify-attestation --key builder.pub --type cyclonedx oci:"$WORK/out":v1 >/dev/null 2>&1 ||
  fail "the CycloneDX attestation"
"$KILN" verify --key builder.pub oci:"$WORK/bases":py >/dev/null 2>&1 && fail "an unsigned image verified"

# --fail-on: the image is written and signed, and the exit status is 3.
set +e
"$KILN" build -q --insecure-allow-unverified-base --scan --db advisories.db --fail-on high \
  -t oci:"$WORK/out":gated ctx >/dev/null 2>&1
[ $? -eq 3 ] || fail "build --scan --fail-on high did not exit 3"
set -e
"$KILN" inspect oci:"$WORK/out":gated >/dev/null || fail "the gated image was not written"

expect_error "go with --scan" "$KILN" build --fail-on high -t oci:"$WORK/out":x ctx
expect_error "sign into an oci: layout" "$KILN" build --sign-key builder.key -t oci-archive:"$WORK/a.tar" ctx
echo ok
