# Shared by bench/layer and bench/extract: the fixture tree and a timer.
# Figures are printed, never asserted; run on purpose, under nice.
set -eu
BUILD=${1:-build}
KILN=${KILN:-$(cd "$(dirname "$0")/.." && pwd)/$BUILD/cli/kiln}
[ -x "$KILN" ] || { echo "bench: no kiln binary at $KILN (build first, or set KILN)" >&2; exit 1; }
OUT=${BENCH_DIR:-/tmp/kiln-bench}
mkdir -p "$OUT"
TREE=$OUT/tree

# About 300 MB of mixed real files: documentation, Python's library, git.
make_tree() {
  [ -d "$TREE" ] && return 0
  mkdir -p "$TREE.tmp"
  for src in /usr/share/doc /usr/lib/python3 /usr/lib/python3.* /usr/lib/git-core /usr/lib/x86_64-linux-gnu/perl*; do
    [ -d "$src" ] && cp -a --parents "$src" "$TREE.tmp/" 2>/dev/null || true
  done
  mv "$TREE.tmp" "$TREE"
}

# measure NAME OUTPUT_FILE CMD...: runs CMD, records "name wall cpu rss_kib size".
RESULTS=$OUT/results.txt
: >"$RESULTS"
measure() {
  name=$1 output=$2
  shift 2
  sync
  /usr/bin/time -f '%e %U %S %M' -o "$OUT/.time" "$@" >/dev/null 2>"$OUT/.err" || { cat "$OUT/.err" >&2; echo "bench: $name failed" >&2; return 1; }
  read -r wall user sys rss <"$OUT/.time"
  size=0
  [ -n "$output" ] && size=$(du -sb "$output" | cut -f1)
  cpu=$(echo "$user + $sys" | bc)
  printf '%-24s wall %6.2f s  cpu %6.2f s  rss %7.1f MiB  size %8.1f MiB\n' "$name" "$wall" "$cpu" \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$size / 1048576" | bc -l)"
  echo "$name $wall $cpu $rss $size" >>"$RESULTS"
}

# ratio A B FIELD(2 wall, 3 cpu, 4 rss, 5 size): A's figure over B's.
ratio() {
  a=$(awk -v n="$1" -v f="$3" '$1 == n { print $f }' "$RESULTS")
  b=$(awk -v n="$2" -v f="$3" '$1 == n { print $f }' "$RESULTS")
  [ -n "$a" ] && [ -n "$b" ] && [ "$b" != 0 ] || { echo "n/a"; return; }
  printf '%.2f' "$(echo "$a / $b" | bc -l)"
}
