#!/bin/sh
# kiln parse: the model as JSON, the ignore file chosen, warnings printed
# once on stderr, errors as one FILE:LINE:COL line, --target and
# --build-arg; run as the unprivileged user too (parsing needs no privilege).
. "$(dirname "$0")/lib.sh"
need python3

ctx="$WORK/ctx"
mkdir -p "$ctx"
cat >"$ctx/Containerfile" <<'CF'
ARG BASE=alpine:3.19
FROM $BASE AS build
ARG VERSION=1
MAINTAINER someone
RUN echo $VERSION
FROM scratch AS final
COPY --from=build /a /b
CF
printf 'secret\n' >"$ctx/.dockerignore"
printf '*.log\n!keep.log\n' >"$ctx/.containerignore"

"$KILN" parse --json --build-arg VERSION=2 "$ctx" >"$WORK/model.json" 2>"$WORK/warn"
python3 - "$WORK/model.json" "$ctx" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["args"] == [["BASE", "alpine:3.19"]], m["args"]
assert m["target"] == 1
s0, s1 = m["stages"]
assert s0["from"] == {"image": "alpine:3.19"} and s0["name"] == "build"
assert s0["steps"][0]["pairs"] == [["VERSION", "2"]]
assert s0["steps"][1]["instruction"] == "MAINTAINER"
assert s0["steps"][2]["args"] == ["echo $VERSION"]
assert s1["from"] == {"scratch": True}
assert s1["steps"][0]["from_stage"] == 0
# .containerignore wins over .dockerignore
assert m["ignore"]["file"] == sys.argv[2] + "/.containerignore", m["ignore"]
assert m["ignore"]["patterns"] == ["*.log", "!keep.log"]
PY
[ "$(grep -c 'MAINTAINER is deprecated' "$WORK/warn")" -eq 1 ] || { cat "$WORK/warn"; fail "MAINTAINER warning not printed exactly once"; }

# --ignorefile overrides both
printf 'x\n' >"$WORK/other.ignore"
"$KILN" parse --json --ignorefile "$WORK/other.ignore" "$ctx" 2>/dev/null | grep -q '"x"' || fail "--ignorefile not used"

# deterministic output
"$KILN" parse --json --build-arg VERSION=2 "$ctx" >"$WORK/model2.json" 2>/dev/null
cmp -s "$WORK/model.json" "$WORK/model2.json" || fail "two runs printed different JSON"

# --target skips what the target does not need
"$KILN" parse --json --target build "$ctx" 2>/dev/null | python3 -c '
import json, sys
m = json.load(sys.stdin)
assert m["target"] == 0 and m["stages"][1]["needed"] is False, m'

# errors: one line, FILE:LINE:COL, reason, offending text
printf 'FROM alpine\nCOPY --chmodd=755 a /b\n' >"$WORK/Bad"
expect_error "parse: $WORK/Bad:2:6: unknown flag --chmodd for COPY: --chmodd=755" "$KILN" parse -f "$WORK/Bad" --json "$ctx"
expect_error 'target stage "nope" could not be found' "$KILN" parse --target nope --json "$ctx"
expect_error "unknown option --bogus" "$KILN" parse --bogus
expect_error "$WORK/missing" "$KILN" parse -f "$WORK/missing" --json

# a Dockerfile is read when there is no Containerfile
mkdir -p "$WORK/docker"
printf 'FROM busybox\n' >"$WORK/docker/Dockerfile"
"$KILN" parse --json "$WORK/docker" | grep -q busybox || fail "Dockerfile not read"

# rootless: the same parse as the unprivileged user
chmod -R a+rX "$ctx"
as_user "$KILN" parse --json --build-arg VERSION=2 "$ctx" >"$WORK/model3.json" 2>/dev/null
cmp -s "$WORK/model.json" "$WORK/model3.json" || fail "the unprivileged user got a different model"
echo "parse: ok"
