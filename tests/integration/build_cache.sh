#!/bin/sh
# The build cache: a hit or a miss with its reason for each instruction
# kind and each part of the key, the back-dated edit, the ignore file,
# reproducible digests across users, directories, touch and prune, two
# concurrent builds sharing a cache, kiln cache ls|prune, --no-cache,
# --cache-log and --check-reproducible.
. "$(dirname "$0")/lib.sh"
need busybox python3
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000

mkdir -p base/bin base/etc base/tmp
cp "$(command -v busybox)" base/bin/busybox
for a in sh cat echo mkdir ls; do ln -s busybox base/bin/$a; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > base/etc/passwd
chmod 1777 base/tmp
"$KILN" import -q base -t oci:"$WORK/bases":busybox >/dev/null

mkdir -p ctx/src ctx/data
echo 'print("one")' > ctx/src/app.py
echo 'extra = 1' > ctx/src/extra.py
echo input > ctx/data/input
echo 'not copied by any step' > ctx/notes.txt
cat > ctx/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:busybox AS build
ARG VERSION=1
ENV MODE=prod
COPY src/ /app/src/
RUN --mount=type=bind,source=data,target=/data cat /data/input > /app/input-copy
RUN echo "\$VERSION" > /app/version
WORKDIR /app/work
LABEL stage=build

FROM oci:$WORK/bases:busybox
COPY --from=build /app/version /version
COPY --from=build /app /app
USER 1000
CMD ["/bin/cat", "/app/version"]
CONTAINERFILE
chmod -R a+rX ctx
# The stat cache does not trust a digest taken within a second of the
# file's last change (it could change again unseen in the same tick).
sleep 1.1

CACHE=$WORK/cache
# build NAME [OPTIONS...]: builds ctx with the shared cache; the digest goes
# to NAME.digest, the progress to NAME.log, the decisions to NAME.jsonl.
build() {
  _name=$1
  shift
  "$KILN" build --insecure-allow-unverified-base --cache-dir "$CACHE" --cache-log "$WORK/$_name.jsonl" \
    -t oci:"$WORK/out":"$_name" "$@" ctx >"$WORK/$_name.digest" 2>"$WORK/$_name.log" ||
    { cat "$WORK/$_name.log" >&2; fail "build $_name"; }
}
# decision NAME LINE [STAGE]: "hit" or "miss: REASON" for the step at that
# Containerfile line (stage 1 unless given).
decision() {
  python3 - "$WORK/$1.jsonl" "$2" "${3:-1}" <<'PYTHON'
import json, sys
path, line, stage = sys.argv[1], sys.argv[2], sys.argv[3]
for text in open(path):
    d = json.loads(text)
    if d["location"] == "Containerfile:" + line and d["step"].split("/")[0] == stage:
        print("hit" if d["decision"] == "hit" else "miss: " + d["reason"])
        break
else:
    print("absent")
PYTHON
}
expect() { # NAME LINE EXPECTED [STAGE]
  got=$(decision "$1" "$2" "${4:-1}")
  [ "$got" = "$3" ] || { cat "$WORK/$1.log" >&2; fail "$1: Containerfile:$2 (stage ${4:-1}): expected \"$3\", got \"$got\""; }
}
cached_count() { sed -n 's/^cache: \([0-9]*\) of \([0-9]*\) steps cached.*/\1 \2/p' "$WORK/$1.log"; }
hashed_bytes() { sed -n 's/.* \([0-9]*\) bytes hashed$/\1/p' "$WORK/$1.log"; }

# Cold, then nothing changed: every step found, the same image, nothing read.
build cold
expect cold 1 "miss: FROM: not in the cache"
expect cold 4 "miss: COPY src/: not in the cache"
# The base's blobs enter the cache as hard links (same file system), not copies.
base_layer=$("$KILN" inspect --raw manifest oci:"$WORK/bases":busybox | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["digest"].split(":")[1])')
[ "$(stat -c %h "$CACHE/blobs/blobs/sha256/$base_layer")" -ge 2 ] || fail "the base layer was copied, not linked"
build warm
[ "$(cached_count warm)" = "13 13" ] || fail "no-op rebuild: $(cached_count warm) cached"
[ "$(hashed_bytes warm)" = 0 ] || fail "no-op rebuild hashed $(hashed_bytes warm) bytes"
[ "$(cat warm.digest)" = "$(cat cold.digest)" ] || fail "a cached build gave another image"
grep -q -- '--> CACHED' warm.log || fail "no CACHED line in the progress"
[ "$(wc -l < warm.jsonl)" -eq 13 ] || fail "--cache-log: $(wc -l < warm.jsonl) lines for 13 steps"

# A changed source file: that COPY misses and says which file; what comes
# after misses because its parent changed; what comes before is found.
echo 'print("two, longer")' > ctx/src/app.py
build edit
expect edit 3 hit
expect edit 4 "miss: COPY src/: 1 file changed: src/app.py"
expect edit 5 "miss: RUN: parent changed"
expect edit 10 hit 2
# COPY --from is keyed by the files it copies: the stage changed, not them.
expect edit 11 hit 2
expect edit 12 "miss: COPY /app: 1 file changed: app/src/app.py" 2
expect edit 13 "miss: USER: parent changed" 2
[ "$(cat edit.digest)" != "$(cat warm.digest)" ] || fail "an edit did not change the image"

# The back-dated edit: same size, mtime set back; ctime gives it away.
mtime=$(stat -c %Y ctx/src/app.py)
build before-backdate
echo 'print("TWO, longer")' > ctx/src/app.py
touch -d "@$mtime" ctx/src/app.py
build backdated
expect backdated 4 "miss: COPY src/: 1 file changed: src/app.py"

# Modes are part of the key, mtimes are not.
chmod 0600 ctx/src/app.py
build mode
expect mode 4 "miss: COPY src/: 1 file changed: src/app.py"
touch ctx/src/extra.py ctx/src/app.py
build touched
expect touched 4 hit

# A file added to a copied directory.
echo 'new = 1' > ctx/src/new.py
build added
expect added 4 "miss: COPY src/: 1 file added: src/new.py"

# The ignore file changes the key only when it changes the files selected.
echo notes.txt > ctx/.containerignore
build ignore-unrelated
expect ignore-unrelated 4 hit
printf 'notes.txt\nsrc/extra.py\n' > ctx/.containerignore
build ignore-selected
expect ignore-selected 4 "miss: COPY src/: 1 file removed: src/extra.py"

# A bind-mounted context file is part of its RUN's key.
echo changed > ctx/data/input
build bind
expect bind 4 hit
expect bind 5 "miss: RUN: 1 file changed: data/input"

# ARG: a changed value misses where it is used (every RUN sees it), not
# where it is defined.
build arg --build-arg VERSION=2
expect arg 2 hit
expect arg 4 hit
expect arg 5 "miss: RUN: ARG VERSION changed"

# Instructions: ENV, WORKDIR, LABEL, USER and CMD changes.
sed -i 's/^ENV MODE=prod/ENV MODE=dev/; s/^LABEL stage=build/LABEL stage=built/; s/^USER 1000/USER 1001/' \
  ctx/Containerfile
build instructions
expect instructions 2 hit
expect instructions 3 "miss: ENV: instruction changed (was: ENV MODE=prod)"
expect instructions 4 "miss: COPY src/: parent changed"
expect instructions 13 "miss: USER: instruction changed (was: USER 1000)" 2
build instructions-again
[ "$(cached_count instructions-again)" = "13 13" ] || fail "rebuild after instruction changes not cached"
sed -i 's/^WORKDIR \/app\/work/WORKDIR \/app\/other/' ctx/Containerfile
build workdir
expect workdir 7 "miss: WORKDIR: instruction changed (was: WORKDIR /app/work)"
expect workdir 8 "miss: LABEL: parent changed"

# Layer options and timestamps decide the layers' bytes: part of the key.
build zstd --compression zstd
expect zstd 2 "miss: ARG: layer options changed (was gzip:3:1700000000, now zstd:3:1700000000)"
SOURCE_DATE_EPOCH=1700000001 build epoch
expect epoch 2 "miss: ARG: layer options changed (was zstd:3:1700000000, now gzip:3:1700000001)"

# The base moves under its tag: FROM says so, the next step's parent changed.
echo extra > base/etc/extra
"$KILN" import -q base -t oci:"$WORK/bases":busybox >/dev/null
build base
case "$(decision base 1)" in
"miss: FROM: base changed: was sha256:"*", now sha256:"*) ;;
*) fail "moved base: $(decision base 1)" ;;
esac
expect base 2 "miss: ARG: parent changed"

# --no-cache builds every step again and gives the same image.
build again
build nocache --no-cache
[ "$(cached_count nocache)" = "0 13" ] || fail "--no-cache: $(cached_count nocache) cached"
expect nocache 4 "miss: COPY src/: not looked up (--no-cache)"
[ "$(cat nocache.digest)" = "$(cat again.digest)" ] || fail "--no-cache gave another image"

# Cached steps whose lower directories are gone: a COPY's is applied again,
# a RUN's stage is flattened; the steps after them still build right.
rm -rf "$CACHE"/rootfs/*/layer-*
sed -i 's/^WORKDIR \/app\/other/WORKDIR \/app\/third/' ctx/Containerfile
build lost-dirs
expect lost-dirs 6 hit
expect lost-dirs 7 "miss: WORKDIR: instruction changed (was: WORKDIR /app/other)"
build lost-dirs-fresh --no-cache
[ "$(cat lost-dirs.digest)" = "$(cat lost-dirs-fresh.digest)" ] || fail "steps after lost lower directories differ"
sed -i 's/^WORKDIR \/app\/third/WORKDIR \/app\/other/' ctx/Containerfile

# Unlike Kaniko, a miss does not end the lookups: a RUN that runs again and
# makes the same layer leaves the same state, so the step after it hits.
mkdir -p rerun
printf 'FROM oci:%s/bases:busybox\nARG A=1\nRUN echo constant > /c\nCOPY app.txt /app.txt\n' "$WORK" > rerun/Containerfile
echo app > rerun/app.txt
"$KILN" build --insecure-allow-unverified-base --cache-dir "$CACHE" --cache-log rerun1.jsonl -t oci:"$WORK/out":rerun \
  rerun >/dev/null 2>&1 || fail "rerun build"
"$KILN" build --insecure-allow-unverified-base --cache-dir "$CACHE" --cache-log rerun2.jsonl --build-arg A=2 \
  -t oci:"$WORK/out":rerun rerun >/dev/null 2>&1 || fail "rerun build with A=2"
expect rerun2 3 "miss: RUN: ARG A changed"
expect rerun2 4 hit

# Without a fixed epoch a wholly cached build still gives the same image.
( unset SOURCE_DATE_EPOCH; build now1; build now2 )
[ "$(cat now2.digest)" = "$(cat now1.digest)" ] || fail "a cached build without SOURCE_DATE_EPOCH changed the image"

# Two concurrent builds share one cache; the third finds everything.
CACHE=$WORK/shared-cache
build concurrent1 & p1=$!
build concurrent2 & p2=$!
wait $p1 || fail "first concurrent build"
wait $p2 || fail "second concurrent build"
[ "$(cat concurrent1.digest)" = "$(cat concurrent2.digest)" ] || fail "concurrent builds differ"
[ "$(cat concurrent1.digest)" = "$(cat again.digest)" ] || fail "a fresh cache gave another image"
build concurrent3
[ "$(cached_count concurrent3)" = "13 13" ] || fail "after concurrent builds: $(cached_count concurrent3) cached"

# kiln cache ls and prune.
"$KILN" cache ls --cache-dir "$CACHE" > ls.txt || fail "cache ls"
grep -q 'Containerfile:4 COPY src/ /app/src/' ls.txt || { cat ls.txt; fail "cache ls does not list COPY"; }
# 12 entries: both stages' FROM lines name the same base, one key.
grep -q '^12 entries' ls.txt || { cat ls.txt; fail "cache ls: expected 12 entries"; }
"$KILN" cache prune --cache-dir "$CACHE" --older-than 1d > prune.txt || fail "cache prune --older-than"
grep -q '^removed 0 entries' prune.txt || { cat prune.txt; fail "prune --older-than 1d removed fresh entries"; }
mkdir -p "$CACHE/tmp/build-left-behind"
"$KILN" cache prune --cache-dir "$CACHE" > prune.txt || fail "cache prune"
[ ! -e "$CACHE/tmp/build-left-behind" ] || fail "prune kept an interrupted build's scratch"
"$KILN" cache prune --cache-dir "$CACHE" --all > prune.txt || fail "cache prune --all"
grep -q '^removed 12 entries, kept 0' prune.txt || { cat prune.txt; fail "prune --all"; }
[ -z "$(ls "$CACHE/blobs/blobs/sha256")" ] || fail "prune --all left blobs"
expect_error "cache prune: --max-size \"ten\"" "$KILN" cache prune --cache-dir "$CACHE" --max-size ten
expect_error "cache prune: --older-than \"3x\"" "$KILN" cache prune --cache-dir "$CACHE" --older-than 3x
expect_error "cache ls: \"$WORK/ctx\" holds no kiln build cache" "$KILN" cache ls --cache-dir "$WORK/ctx"
"$KILN" cache prune --cache-dir "$CACHE" --older-than 1h30m > prune.txt || fail "cache prune --older-than 1h30m"
build after-prune
[ "$(cat after-prune.digest)" = "$(cat again.digest)" ] || fail "a build after prune gave another image"
"$KILN" cache prune --cache-dir "$CACHE" --max-size 1 > prune.txt || fail "cache prune --max-size"
# Only entries that hold no bytes (config steps) can stay under one byte.
grep -q '^removed [0-9]* entries, kept [0-9]*; .* -> [0-9.]* \(B\|KiB\) ' prune.txt || { cat prune.txt; fail "prune --max-size 1"; }
"$KILN" cache ls --cache-dir "$CACHE" | grep -v '^KEY\|entries;' | grep -v ' 0 B ' && fail "prune --max-size 1 kept an entry with bytes"


# Reproducible across users (with and without a subuid range), directories
# and touch: the same digest as root's.
for user in kiln-test kiln-nosub; do
  for dir in a b; do
    d=$WORK/repro-$user-$dir
    mkdir -p "$d" && cp -a ctx "$d/ctx" && chown -R "$user" "$d"
    [ "$dir" = b ] && find "$d/ctx" -exec touch {} +
    digest=$(as_named_user "$user" "$KILN" build -q --insecure-allow-unverified-base -t oci:"$d/out":r "$d/ctx" 2>"$d.err") ||
      { cat "$d.err" >&2; fail "build as $user in $dir"; }
    [ "$digest" = "$(cat again.digest)" ] || fail "build as $user in directory $dir gave $digest, root $(cat again.digest)"
  done
done

# A context of 2,000 files: a no-op rebuild reads none of them.
mkdir -p many
i=0
while [ $i -lt 20 ]; do
  mkdir -p many/d$i
  j=0
  while [ $j -lt 100 ]; do echo "file $i $j" > many/d$i/f$j; j=$((j + 1)); done
  i=$((i + 1))
done
printf 'FROM oci:%s/bases:busybox\nCOPY . /ctx/\n' "$WORK" > many/Containerfile
sleep 1.1
"$KILN" build --insecure-allow-unverified-base --cache-dir "$CACHE" -t oci:"$WORK/out":many many >/dev/null 2>many1.log ||
  fail "2,000-file build"
"$KILN" build --insecure-allow-unverified-base --cache-dir "$CACHE" -t oci:"$WORK/out":many many >/dev/null 2>many2.log ||
  fail "2,000-file rebuild"
grep -q 'context: 2001 files checked, 0 read, 0 bytes hashed' many2.log || { tail -1 many2.log; fail "no-op rebuild read files"; }

# --check-reproducible: passes here, and names the layer and file when a RUN
# writes something random; then nothing is written.
"$KILN" build --insecure-allow-unverified-base --check-reproducible -t oci:"$WORK/checked":ok ctx >check.out 2>check.err ||
  { cat check.err; fail "--check-reproducible of a reproducible build"; }
grep -q '^reproducible: both builds gave sha256:' check.err || fail "--check-reproducible verdict"
[ "$(cat check.out)" = "$(cat again.digest)" ] || fail "--check-reproducible gave another image"
mkdir -p random
printf 'FROM oci:%s/bases:busybox\nRUN echo same > /same && cat /proc/sys/kernel/random/uuid > /random\n' "$WORK" \
  > random/Containerfile
expect_error 'not reproducible: .* differ: layer 2 (RUN echo same > /same && cat /proc/sys/kernel/random/uuid > /random): random: content sha256:' \
  "$KILN" build -q --insecure-allow-unverified-base --check-reproducible -t oci:"$WORK/unrepro":x random
[ ! -e "$WORK/unrepro" ] || fail "a failed --check-reproducible wrote its destination"
echo "build cache: ok"
