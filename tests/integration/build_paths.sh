#!/bin/sh
# Host paths a build's sandbox reaches. As root, container root is an
# unprivileged host id: a cache and scratch files under a directory only
# root may search (/root is 0700) must still work. And RUN
# --mount=type=bind sources resolve inside the context (or the stage's
# files), as COPY sources do: ".." and symlinks never lead out of it, so a
# Containerfile cannot read the builder's own files (~/.ssh) into a layer.
. "$(dirname "$0")/lib.sh"
need busybox
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000

mkdir -p base/bin base/etc
cp "$(command -v busybox)" base/bin/busybox
for a in sh cat echo mkdir; do ln -s busybox base/bin/$a; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > base/etc/passwd
"$KILN" import -q base -t oci:"$WORK/bases":busybox >/dev/null
chmod -R a+rX "$WORK/bases"

# make_tree DIR: DIR/ctx, a context whose RUN steps use a cache mount, bind
# mounts of the context and of a stage, and COPY --from a stage of several
# layers (read through an overlay view); DIR/outside, a file beside it.
make_tree() {
  mkdir -p "$1/ctx/data"
  echo inside > "$1/ctx/data/file"
  echo "host secret" > "$1/outside"
  cat > "$1/ctx/Containerfile" <<CONTAINERFILE
FROM oci:$WORK/bases:busybox AS build
RUN mkdir -p /out && echo built > /out/one
RUN --mount=type=cache,target=/cache echo cached > /cache/c && cat /cache/c > /out/two
RUN --mount=type=bind,source=data,target=/data cat /data/file > /out/three

FROM oci:$WORK/bases:busybox
COPY --from=build /out /out
RUN --mount=type=bind,from=build,source=/out,target=/b cat /b/one /b/two /b/three > /out/all
CONTAINERFILE
}

# private_build WHO: builds with the cache, the scratch files and the output
# in a 0700 directory owned by WHO. The context is beside it: as root, a
# RUN --mount=type=bind source must be searchable by container root.
private_build() {
  p="$WORK/private-$1"
  mkdir -m 0700 "$p"
  make_tree "$WORK/context-$1"
  chmod -R a+rX "$WORK/context-$1"
  runner=""
  if [ "$1" != root ]; then
    chown -R "$1" "$p"
    runner="runuser -u $1 -- env HOME=/home/$1 XDG_CACHE_HOME=$p/xdg-cache"
  fi
  $runner env TMPDIR="$p" "$KILN" build -q --insecure-allow-unverified-base --cache-dir "$p/cache" \
    -t oci:"$p/out":img "$WORK/context-$1/ctx" >"$p.log" 2>&1 ||
    { cat "$p.log"; fail "$1: a build with its cache under a 0700 directory failed"; }
  $runner "$KILN" run oci:"$p/out":img -- /bin/cat /out/all >"$p.all" 2>"$p.log" || { cat "$p.log"; fail "$1: kiln run"; }
  [ "$(cat "$p.all")" = "$(printf 'built\ncached\ninside')" ] || { cat "$p.all"; fail "$1: wrong /out/all"; }
}
private_build root
id kiln-test >/dev/null 2>&1 || skip "user kiln-test is missing (scripts/setup-test-users.sh makes it)"
private_build kiln-test

# Bind sources that try to leave the context: through "..", a relative
# symlink and an absolute one. Each resolves inside the context, where
# nothing is found: one line, and the secret beside the context is never read.
# A symlink that stays inside (absolute, read from the context's root) works.
mkdir -p escape
chmod 0755 escape
make_tree "$WORK/escape"
ln -s ../outside escape/ctx/relative-link
ln -s "$WORK/escape/outside" escape/ctx/absolute-link
ln -s /data escape/ctx/inside-link
chmod -R a+rX escape
for who in root kiln-test; do
  mkdir -p "escape-out-$who" "cache-$who"
  chown "$who" "escape-out-$who" "cache-$who"
  runner="env XDG_CACHE_HOME=$WORK/cache-$who"
  [ "$who" = root ] || runner="runuser -u $who -- env HOME=/home/$who XDG_CACHE_HOME=$WORK/cache-$who"
  n=0
  for source in ../outside relative-link absolute-link; do
    n=$((n + 1))
    printf 'FROM oci:%s/bases:busybox\nRUN --mount=type=bind,source=%s,target=/x cat /x\n' "$WORK" "$source" \
      >"escape/ctx/Containerfile.$n"
    expect_error "Containerfile.$n:2: RUN --mount=type=bind,source=$source: " \
      $runner "$KILN" build -q --insecure-allow-unverified-base -f "$WORK/escape/ctx/Containerfile.$n" \
      -t oci:"$WORK/escape-out-$who/img":v$n "$WORK/escape/ctx"
    grep -q "host secret" "$WORK/.out" "$WORK/.err" && fail "$who: a bind mount read $source outside the context"
  done
  printf 'FROM oci:%s/bases:busybox\nRUN --mount=type=bind,source=inside-link,target=/x cat /x/file\n' "$WORK" \
    >escape/ctx/Containerfile.in
  out=$($runner "$KILN" build --insecure-allow-unverified-base -f "$WORK/escape/ctx/Containerfile.in" \
    -t oci:"$WORK/escape-out-$who/img":in "$WORK/escape/ctx" 2>&1) || { echo "$out"; fail "$who: a symlink inside the context"; }
  echo "$out" | grep -qx inside || { echo "$out"; fail "$who: the bind mount of inside-link did not show data/"; }
done
echo "PASS: build_paths"
