#!/bin/sh
# The CycloneDX 1.5 and SPDX 2.3 documents kiln scan writes validate against
# the official JSON schemas in ../shared/specs/schemas, checked with npm's
# ajv-cli@5 and ajv-formats@2 (installed by this test into a cache directory;
# skipped when npm cannot reach its registry).
. "$(dirname "$0")/lib.sh"
need npm node
need_shared specs/schemas
SCHEMAS="$SHARED_DIR/specs/schemas"
FIX="$KILN_SOURCE_ROOT/tests/fixtures/scanner"

CACHE="${KILN_AJV_CACHE:-/tmp/kiln-ajv-cache}"
AJV="$CACHE/node_modules/.bin/ajv"
if [ ! -x "$AJV" ] || [ ! -d "$CACHE/node_modules/ajv-formats" ]; then
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --silent ajv-cli@5 ajv-formats@2 >"$WORK/npm.log" 2>&1 ||
    { tail -5 "$WORK/npm.log"; skip "npm could not install ajv-cli@5 and ajv-formats@2 (registry unreachable?)"; }
fi

"$KILN" db import "$FIX/debian.jsonl" "$FIX/pypi.json" "$FIX/npm" -o "$WORK/db" >/dev/null
R="$WORK/rootfs"
mkdir -p "$R/etc" "$R/var/lib/dpkg/status.d" "$R/srv/site-packages/Zope.Interface-5.0+local.1.dist-info" \
  "$R/app/node_modules/@babel/core"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' >"$R/etc/os-release"
printf 'Package: libc6\nSource: glibc\nVersion: 2.36-9+deb12u3\nArchitecture: amd64\n' >"$R/var/lib/dpkg/status.d/libc6"
printf 'Package: attr\nVersion: 1:2.4.47-2+b1\nArchitecture: amd64\nSource: attr (1:2.4.47-2)\n' >"$R/var/lib/dpkg/status.d/attr"
printf 'Name: Zope.Interface\nVersion: 5.0+local.1\nLicense: ZPL 2.1\n' \
  >"$R/srv/site-packages/Zope.Interface-5.0+local.1.dist-info/METADATA"
printf '{"name":"@babel/core","version":"7.10.0","license":"MIT"}' >"$R/app/node_modules/@babel/core/package.json"

"$KILN" scan --rootfs "$R" --db "$WORK/db" --name registry.example/app:1.0 --format cyclonedx -o "$WORK/bom.json" 2>/dev/null
"$KILN" scan --rootfs "$R" --db "$WORK/db" --name registry.example/app:1.0 --format spdx -o "$WORK/doc.spdx.json" 2>/dev/null

cd "$SCHEMAS"
"$AJV" validate --spec=draft7 --strict=false -c ajv-formats -s bom-1.5.schema.json -r spdx.schema.json \
  -r jsf-0.82.schema.json -d "$WORK/bom.json" >"$WORK/ajv.log" 2>&1 || { cat "$WORK/ajv.log"; fail "CycloneDX document invalid"; }
"$AJV" validate --spec=draft7 --strict=false -c ajv-formats -s spdx-2.3.schema.json -d "$WORK/doc.spdx.json" \
  >"$WORK/ajv.log" 2>&1 || { cat "$WORK/ajv.log"; fail "SPDX document invalid"; }

python3 - "$WORK/bom.json" "$WORK/doc.spdx.json" <<'PY' || fail "SBOM content"
import json, re, sys
bom = json.load(open(sys.argv[1]))
purls = sorted(c["purl"] for c in bom["components"] if "purl" in c)
assert purls == [
    "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64&distro=debian-12&upstream=attr%401:2.4.47-2",
    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=glibc",
    "pkg:npm/%40babel/core@7.10.0",
    "pkg:pypi/zope-interface@5.0%2Blocal.1",
], purls
assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", bom["serialNumber"])
ids = sorted(v["id"] for v in bom["vulnerabilities"])
assert ids == ["KILN-TEST-DEB-2", "KILN-TEST-NPM-1"], ids
deb2 = [v for v in bom["vulnerabilities"] if v["id"] == "KILN-TEST-DEB-2"][0]
assert deb2["ratings"] == [{"score": 9.8, "severity": "critical", "method": "CVSSv31",
                            "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}], deb2["ratings"]
spdx = json.load(open(sys.argv[2]))
assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", p["SPDXID"]) for p in spdx["packages"])
assert all(p["filesAnalyzed"] is False for p in spdx["packages"]) and len(spdx["packages"]) == 5
assert "#" not in spdx["documentNamespace"]
PY
echo "PASS: CycloneDX 1.5 and SPDX 2.3 documents validate"
