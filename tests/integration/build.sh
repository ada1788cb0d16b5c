#!/bin/sh
# kiln build, end to end, as root and as unprivileged users: multi-stage
# builds, step kinds, ownership, whiteouts, networking, failures.
. "$(dirname "$0")/lib.sh"
need umoci busybox python3
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000

# A busybox base with a non-root user, and a base without a shell.
mkdir -p base/bin base/etc base/tmp base/home/app
cp "$(command -v busybox)" base/bin/busybox
for a in sh ls cat echo mkdir rm id touch chown chmod sleep stat wget grep head; do ln -s busybox base/bin/$a; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n' > base/etc/passwd
printf 'root:x:0:\napp:x:1000:\nnonroot:x:65532:\n' > base/etc/group
echo keep > base/etc/keep
echo remove > base/etc/remove-me
chmod 1777 base/tmp
chown 1000:1000 base/home/app
"$KILN" import -q base -t oci:"$WORK/bases":busybox >/dev/null
mkdir -p noshell/bin && cp "$(command -v busybox)" noshell/bin/busybox
"$KILN" import -q noshell -t oci:"$WORK/bases":noshell >/dev/null
chmod -R a+rX "$WORK/bases"

mkdir -p ctx/src ctx/ignored
echo 'print("hello")' > ctx/src/app.py
echo excluded > ctx/ignored/file
printf 'ignored\n*.log\n' > ctx/.containerignore
echo log > ctx/debug.log
cat > ctx/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:busybox AS build
ARG GREETING=hello
RUN mkdir -p /out && echo "\$GREETING" > /out/greeting && rm /etc/remove-me
RUN chown 1000:1000 /out/greeting && mkdir /out/owned && chown 65532:0 /out/owned
USER app
RUN touch /home/app/made-by-app
USER root
COPY src/ /out/src/

FROM oci:$WORK/bases:busybox
COPY --from=build --chown=65532:0 /out /app
COPY --from=build /home/app/made-by-app /app/made-by-app
# Destinations that are directories only in layers of this stage not yet on
# disk (answered from the layers' member lists): both land inside.
COPY --from=build /out/greeting /app/src
COPY . /ctx/
COPY src/app.py /ctx/src
USER 65532
WORKDIR /app/work
ENV MODE=prod PATH=/app/bin:\$PATH
LABEL org.example.name="kiln test" org.example.version=1
EXPOSE 8080/tcp
RUN ["/bin/sh", "-c", "id -u > /app/work/uid"]
ENTRYPOINT ["/bin/cat"]
CMD ["/app/greeting"]
CONTAINERFILE

# As root.
d_root=$("$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/out":root ctx) || fail "build as root"
umoci unpack --image "$WORK/out":root bundle >/dev/null || fail "umoci unpack of a built image"
r=bundle/rootfs
[ "$(cat $r/app/greeting)" = hello ] || fail "ARG default in RUN"
[ "$(stat -c %u:%g $r/app/greeting)" = 65532:0 ] || fail "COPY --from --chown: $(stat -c %u:%g $r/app/greeting)"
[ "$(stat -c %u:%g $r/app/made-by-app)" = 1000:1000 ] || fail "file made by USER app: $(stat -c %u:%g $r/app/made-by-app)"
[ "$(cat $r/app/work/uid)" = 65532 ] || fail "numeric USER in RUN"
[ "$(stat -c %u $r/app/work)" = 65532 ] || fail "WORKDIR created after USER is not the user's (BuildKit)"
[ -f $r/app/src/app.py ] || fail "COPY src/"
[ "$(cat $r/app/src/greeting)" = hello ] || fail "COPY --from into a directory of an earlier COPY"
[ "$(cat $r/etc/keep)" = keep ] || fail "base file lost"
[ "$(stat -c %a $r/tmp)" = 1777 ] || fail "/tmp mode"
[ -f $r/ctx/src/app.py ] || fail "COPY . did not copy the context"
[ -e $r/ctx/ignored ] && fail ".containerignore: an ignored directory was copied"
[ -e $r/ctx/debug.log ] && fail ".containerignore: *.log was copied"
"$KILN" inspect --raw config oci:"$WORK/out":root | python3 -c '
import json, sys
c = json.load(sys.stdin)
cfg = c["config"]
assert cfg["Entrypoint"] == ["/bin/cat"], cfg
assert cfg["Cmd"] == ["/app/greeting"], cfg
assert cfg["User"] == "65532"
assert cfg["WorkingDir"] == "/app/work"
assert "MODE=prod" in cfg["Env"]
assert "PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in cfg["Env"], cfg["Env"]
assert cfg["Labels"]["org.example.name"] == "kiln test"
assert "8080/tcp" in cfg["ExposedPorts"]
assert c["created"] == "2023-11-14T22:13:20Z"
assert all(h["created"] == "2023-11-14T22:13:20Z" for h in c["history"])
' || fail "config of the built image"
"$KILN" inspect --raw manifest oci:"$WORK/out":root | grep -q 'org.opencontainers.image.base.digest' ||
  fail "base annotations missing"

# A deletion in RUN becomes a whiteout: --target the stage that deleted it.
"$KILN" build -q --insecure-allow-unverified-base --target build -t oci:"$WORK/out":stage ctx >/dev/null ||
  fail "build --target build"
umoci unpack --image "$WORK/out":stage stagebundle >/dev/null
[ -e stagebundle/rootfs/etc/remove-me ] && fail "a deletion in RUN did not become a whiteout"
[ -f stagebundle/rootfs/etc/keep ] || fail "the whiteout removed too much"
"$KILN" inspect oci:"$WORK/out":stage | grep -q 'COPY src/' || fail "--target built the wrong stage"

# The same build as an unprivileged user with a subuid range gives the same image.
mkdir -p "$WORK/user" && chown "$ROOTLESS_USER" "$WORK/user"
chmod -R a+rX ctx
d_user=$(as_user "$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/user/out":v1 "$WORK/ctx") ||
  fail "build as $ROOTLESS_USER"
[ "$d_user" = "$d_root" ] || fail "root and rootless builds differ: $d_root $d_user"
# The bases are root's files, which the kernel does not let the user link
# (fs.protected_hardlinks): their layers go from the base's layout straight
# into the output, not through the user's cache, and a rebuild is all cached.
base_layer=$("$KILN" inspect --raw manifest oci:"$WORK/bases":busybox | python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][0]["digest"].split(":")[1])')
if [ "$(cat /proc/sys/fs/protected_hardlinks)" = 1 ]; then
  [ -z "$(find "$WORK/.user-cache" -name "$base_layer")" ] || fail "a base layer the user cannot link was copied into the cache"
fi
[ -f "$WORK/user/out/blobs/sha256/$base_layer" ] || fail "the base layer is missing from the rootless build's output"
as_user "$KILN" build --insecure-allow-unverified-base -t oci:"$WORK/user/out":v1 "$WORK/ctx" >/dev/null 2>again.err ||
  fail "rebuild as $ROOTLESS_USER"
grep -q '^cache: \([0-9]*\) of \1 steps cached' again.err || { cat again.err >&2; fail "a rootless rebuild was not all cached"; }

# The image runs: kiln run REF uses its Entrypoint, Cmd, User and WorkingDir.
[ "$("$KILN" run oci:"$WORK/out":root 2>/dev/null)" = hello ] || fail "kiln run of the built image"
[ "$("$KILN" run oci:"$WORK/out":root -- /app/work/uid 2>/dev/null)" = 65532 ] || fail "kiln run REF -- CMD"
[ "$(as_user "$KILN" run oci:"$WORK/user/out":v1 2>/dev/null)" = hello ] || fail "kiln run as $ROOTLESS_USER"

# Exec-form RUN on a base without a shell.
mkdir -p noshellctx
printf 'FROM oci:%s/bases:noshell\nRUN ["/bin/busybox", "mkdir", "/made"]\n' "$WORK" > noshellctx/Containerfile
"$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/out":noshell noshellctx >/dev/null ||
  fail "exec-form RUN on a shell-less base"
umoci unpack --image "$WORK/out":noshell nsbundle >/dev/null && [ -d nsbundle/rootfs/made ] || fail "exec-form RUN result"

# Networking: none cannot reach a loopback server on the host, host can.
python3 -m http.server 18765 --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
sleep 1
mkdir -p netctx
cat > netctx/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:busybox
RUN wget -q -O /reached http://127.0.0.1:18765/ || echo unreachable > /unreached
RUN --network=host wget -q -O /reached-host http://127.0.0.1:18765/
CONTAINERFILE
"$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/out":net netctx >/dev/null || { kill $server; fail "network build"; }
kill $server
umoci unpack --image "$WORK/out":net netbundle >/dev/null
[ -f netbundle/rootfs/unreached ] && [ ! -s netbundle/rootfs/reached ] || fail "RUN reached the host without --network"
[ -s netbundle/rootfs/reached-host ] || fail "RUN --network=host could not reach the host"

# A failing RUN: file:line, command, exit code, output; nothing written.
mkdir -p failctx
printf 'FROM oci:%s/bases:busybox\nRUN echo about to fail && exit 3\n' "$WORK" > failctx/Containerfile
if "$KILN" build --insecure-allow-unverified-base --cache-dir "$WORK/failcache" -t oci:"$WORK/failed":v1 failctx \
  >/dev/null 2>err.txt; then
  fail "a failing RUN did not fail the build"
fi
grep -q 'Containerfile:2: RUN echo about to fail && exit 3: exit code 3' err.txt || { cat err.txt; fail "failure message"; }
grep -q 'about to fail' err.txt || fail "failure output tail"
[ ! -e "$WORK/failed" ] || fail "a failed build wrote its destination"
[ -z "$(ls "$WORK/failcache/tmp")" ] || fail "a failed build left scratch directories"

# A base whose layer blob was altered (same size): refused while it is
# extracted, with the blob named; nothing of it enters the cache, so the
# build works once the blob is right again.
cp -a "$WORK/bases" corrupt
layer=$("$KILN" inspect --raw manifest oci:"$WORK/corrupt":busybox | python3 -c 'import json, sys; print(json.load(sys.stdin)["layers"][0]["digest"].split(":")[1])')
cp "corrupt/blobs/sha256/$layer" good-layer
python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1; open(p, "wb").write(b)' \
  "corrupt/blobs/sha256/$layer"
printf 'FROM oci:%s/corrupt:busybox\nRUN echo hi > /hi\n' "$WORK" > failctx/Containerfile
expect_error "sha256:$(echo "$layer" | cut -c1-12)" "$KILN" build -q --insecure-allow-unverified-base --cache-dir "$WORK/corruptcache" \
  -t oci:"$WORK/corrupted":v1 failctx
[ -z "$(find "$WORK/corruptcache" -name "$layer")" ] && [ ! -e "$WORK/corrupted" ] ||
  fail "a base layer that failed its digest check was kept"
cp good-layer "corrupt/blobs/sha256/$layer"
"$KILN" build -q --insecure-allow-unverified-base --cache-dir "$WORK/corruptcache" -t oci:"$WORK/corrupted":v1 \
  failctx >/dev/null || fail "a build after the base was repaired"

expect_error "build: --jobs takes a positive number" "$KILN" build --jobs 0 -t oci:"$WORK/x":v1 ctx

# No trust policy: an unverified base is refused.
expect_error "refused, its signature was not verified" env -u KILN_POLICY "$KILN" build -q -t oci:"$WORK/x":v1 ctx

# An unprivileged user without a subuid range: single-id map with a warning.
mkdir -p "$WORK/nosub"
printf 'FROM oci:%s/bases:busybox\nRUN echo rootless > /note\n' "$WORK" > "$WORK/nosub/Containerfile"
chown -R kiln-nosub "$WORK/nosub"
runuser -u kiln-nosub -- env HOME=/home/kiln-nosub XDG_CACHE_HOME="$WORK/nosub/cache" \
  "$KILN" build --insecure-allow-unverified-base -t oci:"$WORK/nosub/out":v1 "$WORK/nosub" >/dev/null 2>nosub.err ||
  { cat nosub.err; fail "build without a subuid range"; }
grep -q "warning" nosub.err || fail "no warning about the single-id map"

# A base's ONBUILD triggers run first in a stage built on it, in the
# child's context and the base's ENV, and are not passed on.
mkdir -p onbuild-parent onbuild-child
cat > onbuild-parent/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:busybox
ENV GREETING=hi
ONBUILD RUN echo "triggered \$GREETING" > /onbuild
ONBUILD COPY marker /marker
CONTAINERFILE
"$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/out":onbuild-parent onbuild-parent >/dev/null ||
  fail "build of an image with ONBUILD triggers"
printf 'FROM oci:%s/out:onbuild-parent\nRUN cat /onbuild /marker > /both\n' "$WORK" > onbuild-child/Containerfile
echo mark > onbuild-child/marker
"$KILN" build --insecure-allow-unverified-base -t oci:"$WORK/out":onbuild-child onbuild-child >/dev/null 2>onbuild.err ||
  { cat onbuild.err; fail "build on a base with ONBUILD triggers"; }
grep -q '^\[1/1\] ONBUILD RUN echo' onbuild.err || fail "ONBUILD trigger not shown"
[ "$("$KILN" run oci:"$WORK/out":onbuild-child -- /bin/cat /both 2>/dev/null)" = "$(printf 'triggered hi\nmark')" ] ||
  fail "ONBUILD triggers did not run"
"$KILN" inspect --raw config oci:"$WORK/out":onbuild-child | grep -q OnBuild && fail "ONBUILD triggers passed on"

# COPY --parents keeps the sources' paths, below a "/./" pivot when given.
mkdir -p parents/x/sub parents/y
echo a > parents/x/a.txt && echo b > parents/y/b.txt && echo c > parents/x/sub/c.txt
printf 'FROM oci:%s/bases:busybox\nCOPY --parents x/a.txt y/*.txt /p/\nCOPY --parents ./x/./sub /q/\nCOPY --parents x /r/\n' \
  "$WORK" > parents/Containerfile
"$KILN" build -q --insecure-allow-unverified-base -t oci:"$WORK/out":parents parents >/dev/null || fail "COPY --parents"
umoci unpack --image "$WORK/out":parents parentsbundle >/dev/null
for f in p/x/a.txt p/y/b.txt q/sub/c.txt r/x/a.txt r/x/sub/c.txt; do
  [ -f "parentsbundle/rootfs/$f" ] || fail "COPY --parents: /$f missing"
done
[ -e parentsbundle/rootfs/p/a.txt ] && fail "COPY --parents flattened a path"

# --jobs 2 builds independent stages at once: each RUN waits for the other
# to show up in a shared cache mount, which only concurrent stages can do
# (one after another, the first gives up after 5 s and fails).
mkdir -p jobs
cat > jobs/Containerfile <<CONTAINERFILE
FROM oci:$WORK/bases:busybox AS a
RUN --mount=type=cache,target=/c,id=rendezvous sh -c 'echo a says hi; touch /c/a; i=0; while [ ! -e /c/b ]; do busybox sleep 0.1; i=\$((i+1)); [ \$i -lt 50 ] || exit 7; done; echo a > /done-a'

FROM oci:$WORK/bases:busybox AS b
RUN --mount=type=cache,target=/c,id=rendezvous sh -c 'touch /c/b; i=0; while [ ! -e /c/a ]; do busybox sleep 0.1; i=\$((i+1)); [ \$i -lt 50 ] || exit 7; done; echo b > /done-b'

FROM oci:$WORK/bases:busybox
COPY --from=a /done-a /
COPY --from=b /done-b /
CONTAINERFILE
"$KILN" build --jobs 2 --insecure-allow-unverified-base --cache-dir "$WORK/jobs-cache" -t oci:"$WORK/out":jobs jobs \
  >/dev/null 2>jobs.err || { cat jobs.err; fail "--jobs 2 did not run independent stages at once"; }
# Their lines interleave, so each progress and output line says its stage.
grep -q '^\[1/3\] --> done in' jobs.err && grep -q '^\[2/3\] --> done in' jobs.err &&
  grep -qx '\[1/3\] a says hi' jobs.err || { cat jobs.err; fail "--jobs 2: lines without their stage"; }
grep -q '^-->' jobs.err && { cat jobs.err; fail "--jobs 2: a progress line without its stage"; }
umoci unpack --image "$WORK/out":jobs jobsbundle >/dev/null
[ -f jobsbundle/rootfs/done-a ] && [ -f jobsbundle/rootfs/done-b ] || fail "--jobs 2 result"
chmod -R a+rX jobs
as_user "$KILN" build -q --jobs 2 --insecure-allow-unverified-base -t oci:"$WORK/user/out":jobs "$WORK/jobs" \
  >/dev/null 2>jobs-user.err || { cat jobs-user.err; fail "--jobs 2 as $ROOTLESS_USER"; }
echo ok
