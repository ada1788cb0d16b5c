#!/bin/sh
# kiln db import + kiln scan over the suite's own OSV fixtures and a
# distroless-style root filesystem built here: source-package matching,
# unsorted events, Debian ownership of Python packages, npm scopes, alias
# merging, --fail-on, --ignore-unfixed, the ignore file, and bad input.
. "$(dirname "$0")/lib.sh"
need python3

FIX="$KILN_SOURCE_ROOT/tests/fixtures/scanner"
DB="$WORK/test.db"

# --- import: directories, .json, .jsonl; malformed records reported with file and id
"$KILN" db import "$FIX/debian.jsonl" "$FIX/pypi.json" "$FIX/npm" "$FIX/malformed.jsonl" -o "$DB" \
  >"$WORK/import.out" 2>"$WORK/import.err" || { cat "$WORK/import.err"; fail "db import failed"; }
grep -q "malformed.jsonl:1: KILN-TEST-BAD-1: affected\[0\].ranges\[0\].events holds an event without exactly one key; record skipped" \
  "$WORK/import.err" || { cat "$WORK/import.err"; fail "malformed record not reported with file and id"; }
grep -q "12 records stored; 12 read, 0 withdrawn, 1 malformed, 0 duplicate ids; unsupported ecosystems ignored: Go 1" \
  "$WORK/import.out" || { cat "$WORK/import.out"; fail "import counts"; }

# --- a distroless-style rootfs: status.d stanzas, no status file
R="$WORK/rootfs"
mkdir -p "$R/usr/lib" "$R/etc" "$R/var/lib/dpkg/status.d"
printf 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\n' >"$R/usr/lib/os-release"
ln -s ../usr/lib/os-release "$R/etc/os-release"
sd="$R/var/lib/dpkg/status.d"
printf 'Package: libc6\nSource: glibc\nVersion: 2.36-9+deb12u3\nArchitecture: amd64\nMulti-Arch: same\n' >"$sd/libc6"
printf '00000000000000000000000000000000  lib/x86_64-linux-gnu/libc.so.6\n' >"$sd/libc6.md5sums"
printf 'Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n' >"$sd/libssl3"
printf 'Package: bash\nSource: bash (5.2.15-2)\nVersion: 5.2.15-2+b8\nArchitecture: amd64\n' >"$sd/bash"
printf 'Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n' >"$sd/tzdata"
printf 'Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n' >"$sd/base-files"
printf 'Package: python3-starlette\nSource: starlette\nVersion: 0.26.1-1+deb12u2\nArchitecture: all\n' >"$sd/python3-starlette"
printf '00000000000000000000000000000000  usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA\n' \
  >"$sd/python3-starlette.md5sums"
mkdir -p "$R/usr/lib/python3/dist-packages/starlette-0.26.1.dist-info"
printf 'Metadata-Version: 2.1\nName: starlette\nVersion: 0.26.1\n' \
  >"$R/usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA"
sp="$R/opt/venv/lib/python3.11/site-packages"
for nv in pydantic:1.7.3 typing_extensions:4.4.0 requests:2.28.1 weird-pkg:latest; do
  mkdir -p "$sp/${nv%%:*}-${nv##*:}.dist-info"
  printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nName: not-this\n' "${nv%%:*}" "${nv##*:}" \
    >"$sp/${nv%%:*}-${nv##*:}.dist-info/METADATA"
done
mkdir -p "$R/app/node_modules/@babel/core"
printf '{"name":"@babel/core","version":"7.10.0"}' >"$R/app/node_modules/@babel/core/package.json"
# A link out of the root must not reach the host.
ln -s /etc "$R/app/node_modules/hostetc"

"$KILN" scan --rootfs "$R" --db "$DB" --format json --output "$WORK/report.json" 2>"$WORK/scan.err" ||
  { cat "$WORK/scan.err"; fail "scan failed"; }
grep -q 'weird-pkg version "latest" is not a valid PEP 440 version' "$WORK/scan.err" ||
  { cat "$WORK/scan.err"; fail "invalid version not reported"; }
# A stale DB is a warning, never an error; --max-db-age 0 turns it off.
grep -q "is stale: its newest record is from 2024-05-01" "$WORK/scan.err" || { cat "$WORK/scan.err"; fail "stale DB not reported"; }
"$KILN" scan --rootfs "$R" --db "$DB" --max-db-age 0 >/dev/null 2>"$WORK/fresh.err"
if grep -q "is stale" "$WORK/fresh.err"; then fail "--max-db-age 0 still warns"; fi

python3 - "$WORK/report.json" <<'PY' || fail "report content"
import json, sys
r = json.load(open(sys.argv[1]))
got = sorted((f["package"], f["id"], f["fixed_in"] or "-", f["severity"]) for f in r["findings"])
want = sorted([
    ("libc6", "KILN-TEST-DEB-2", "2.36-9+deb12u4", "CRITICAL"),
    ("libssl3", "KILN-TEST-DEB-1", "3.0.13-1~deb12u1", "MEDIUM"),
    ("bash", "KILN-TEST-DEB-4", "-", "LOW"),
    ("bash", "KILN-TEST-DEB-6", "5.2.15-2+b1", "LOW"),
    ("pydantic", "KILN-TEST-PY-1", "1.7.4", "UNKNOWN"),
    ("typing_extensions", "GHSA-test-0003", "4.5.0", "HIGH"),
    ("@babel/core", "KILN-TEST-NPM-1", "7.24.1", "CRITICAL"),
    ("requests", "KILN-TEST-OK-1", "-", "UNKNOWN"),
])
assert got == want, "findings:\n%s\nwant:\n%s" % (got, want)
merged = [f for f in r["findings"] if f["id"] == "GHSA-test-0003"][0]
assert "KILN-TEST-PY-3" in merged["aliases"] and "CVE-2099-1003" in merged["aliases"], merged
bash = [f for f in r["findings"] if f["id"] == "KILN-TEST-DEB-4"][0]
assert bash["state"] == "affected/unfixed" and bash["urgency"] == "unimportant", bash
# The distroless status.d tree is catalogued completely: name, source, version, arch.
debs = {p["name"]: p for p in r["packages"] if p["type"] == "deb"}
assert sorted(debs) == ["base-files", "bash", "libc6", "libssl3", "python3-starlette", "tzdata"], sorted(debs)
assert (debs["bash"]["source"], debs["bash"]["source_version"], debs["bash"]["version"], debs["bash"]["arch"]) == \
    ("bash", "5.2.15-2", "5.2.15-2+b8", "amd64")
assert debs["libc6"]["source"] == "glibc" and debs["tzdata"]["arch"] == "all" and debs["tzdata"]["source"] == "tzdata"
assert debs["libc6"]["purl"] == "pkg:deb/debian/libc6@2.36-9%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=glibc"
assert debs["bash"]["purl"] == "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"
star = [p for p in r["packages"] if p["name"] == "starlette"][0]
assert star["owned_by"] == "python3-starlette", star
assert star["location"] == "usr/lib/python3/dist-packages/starlette-0.26.1.dist-info/METADATA"
assert not any(p["location"].startswith("app/node_modules/hostetc") for p in r["packages"])
assert r["distro"]["ecosystem"] == "Debian:12" and r["db"]["records"] == 12
PY

# --- --fail-on, the ignore file (with an expired entry), --ignore-unfixed
"$KILN" scan --rootfs "$R" --db "$DB" --fail-on critical >/dev/null 2>&1 && fail "--fail-on critical did not trip"
"$KILN" scan --rootfs "$R" --db "$DB" --fail-on critical >/dev/null 2>&1 || rc=$?
[ "${rc:-0}" -eq 3 ] || fail "--fail-on exit status ${rc:-0}, want 3"
cat >"$WORK/ignore.toml" <<'TOML'
[[ignore]]
id = "CVE-2099-0002"
reason = "not reachable in this image"
expires = 2999-01-01

[[ignore]]
id = "KILN-TEST-NPM-1"
reason = "tracked in TICKET-1"
expires = 2000-01-01
TOML
"$KILN" scan --rootfs "$R" --db "$DB" --fail-on critical --ignore-file "$WORK/ignore.toml" >/dev/null 2>"$WORK/ign.err" &&
  fail "an expired ignore entry still suppressed"
grep -q "ignore entry KILN-TEST-NPM-1 expired on 2000-01-01" "$WORK/ign.err" || { cat "$WORK/ign.err"; fail "expiry not reported"; }
sed -i 's/2000-01-01/2999-12-31/' "$WORK/ignore.toml"
"$KILN" scan --rootfs "$R" --db "$DB" --fail-on critical --ignore-file "$WORK/ignore.toml" >"$WORK/table.txt" 2>/dev/null ||
  fail "ignored findings still tripped --fail-on"
grep -q "2 suppressed" "$WORK/table.txt" || { cat "$WORK/table.txt"; fail "table summary"; }
"$KILN" scan --rootfs "$R" --db "$DB" --fail-on high --ignore-file "$WORK/ignore.toml" >/dev/null 2>&1 &&
  fail "--fail-on high ignored the HIGH finding"
"$KILN" scan --rootfs "$R" --db "$DB" --ignore-unfixed --format json -o "$WORK/unfixed.json" 2>/dev/null
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); ids=[f['id'] for f in r['findings']]; assert 'KILN-TEST-DEB-4' not in ids and 'KILN-TEST-DEB-6' in ids, ids" \
  "$WORK/unfixed.json" || fail "--ignore-unfixed"

# --- SARIF and the cosign vuln predicate keep their shapes
"$KILN" scan --rootfs "$R" --db "$DB" --format sarif -o "$WORK/r.sarif" 2>/dev/null
"$KILN" scan --rootfs "$R" --db "$DB" --format cosign-vuln -o "$WORK/vuln.json" 2>/dev/null
python3 - "$WORK/r.sarif" "$WORK/vuln.json" <<'PY' || fail "SARIF or cosign predicate shape"
import json, re, sys
s = json.load(open(sys.argv[1]))
run = s["runs"][0]
rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
assert s["version"] == "2.1.0" and len(rules) == 8 and len(run["results"]) == 8
assert rules["KILN-TEST-DEB-2"]["properties"]["security-severity"] == "9.8"
assert "security-severity" not in rules["KILN-TEST-PY-1"]["properties"]
for res in run["results"]:
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
v = json.load(open(sys.argv[2]))
assert sorted(v) == ["invocation", "metadata", "scanner"]
assert sorted(v["invocation"]) == ["builder.id", "event_id", "parameters", "uri"]
assert sorted(v["scanner"]) == ["db", "result", "uri", "version"] and sorted(v["scanner"]["db"]) == ["uri", "version"]
rfc3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"
assert re.match(rfc3339, v["metadata"]["scanStartedOn"]) and re.match(rfc3339, v["metadata"]["scanFinishedOn"])
assert v["scanner"]["result"]["summary"]["CRITICAL"] == 2
PY

# --- bad input: a truncated DB, a status file with broken paragraphs
head -c 2000 "$DB" >"$WORK/truncated.db"
expect_error "file is truncated or damaged: header says" "$KILN" scan --rootfs "$R" --db "$WORK/truncated.db"
head -c 20 "$DB" >"$WORK/tiny.db"
expect_error "truncated (no complete header)" "$KILN" scan --rootfs "$R" --db "$WORK/tiny.db"
C="$WORK/classic"
mkdir -p "$C/etc" "$C/var/lib/dpkg"
printf 'ID=debian\nVERSION_ID=12\n' >"$C/etc/os-release"
cat >"$C/var/lib/dpkg/status" <<'STATUS'
Package: libssl3
Status: install ok installed
Source: openssl
Version: 3.0.11-1~deb12u2
Architecture: amd64

Package: broken-one
Status: install ok installed
this line is not a field
Version: 1.0

Package: removed
Status: deinstall ok config-files
Version: 1.0

Package: libc6
Status: install ok installed
Source: glibc
Version: 2.36-9+deb12u10
Architecture: amd64
STATUS
"$KILN" scan --rootfs "$C" --db "$DB" --format json -o "$WORK/classic.json" 2>"$WORK/classic.err"
grep -q "var/lib/dpkg/status: paragraph at line 7 (broken-one): line 9: not a \"Field: value\" line; skipped" \
  "$WORK/classic.err" || { cat "$WORK/classic.err"; fail "broken paragraph not reported"; }
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert [p['name'] for p in r['packages']] == ['libssl3', 'libc6'], r['packages']
assert [f['id'] for f in r['findings']] == ['KILN-TEST-DEB-1'], r['findings']  # +deb12u10 > +deb12u4
" "$WORK/classic.json" || fail "classic status catalogue"

# --- rootless: the same scan as an unprivileged user
chmod -R a+rX "$WORK"
as_user "$KILN" scan --rootfs "$R" --db "$DB" --format json >"$WORK/user.json" 2>/dev/null || fail "rootless scan failed"
python3 -c "import json,sys; assert len(json.load(open(sys.argv[1]))['findings']) == 8" "$WORK/user.json" ||
  fail "rootless scan differs"
echo "PASS: scan fixtures"
