#!/bin/sh
# Builds the front-end fuzzer with clang (-fsanitize=fuzzer,address,undefined)
# and runs it nicely on one core. Usage:
#   tests/fuzz/run.sh [SECONDS]        fuzz for SECONDS (default 600)
#   tests/fuzz/run.sh --build          only build build-fuzz/fuzz_parse
#   tests/fuzz/run.sh --merge          minimise tests/fuzz/corpus in place (edge coverage
#                                      only, so the checked-in corpus stays small; the
#                                      full one stays in build-fuzz/corpus-new)
#   tests/fuzz/run.sh --replay FILE... run the inputs once (regressions)
# New inputs go to build-fuzz/corpus-new; crashes to build-fuzz/crash-*.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build-fuzz"
mkdir -p "$out/obj" "$out/corpus-new"
cxx=${CXX_FUZZ:-clang++-14}
flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE -I$root -I$root/build"
if [ ! -f "$root/build/kiln_config.h" ]; then
  mkdir -p "$out/cfg"
  printf '#pragma once\n#define KILN_VERSION "fuzz"\n' >"$out/cfg/kiln_config.h"
  flags="$flags -I$out/cfg"
fi
objs=""
# The front end and what it needs from base/ and oci/; the context walk and
# the sandbox touch the filesystem and stay out.
sources="builder/context.cpp builder/diagnostic.cpp builder/flags.cpp builder/ignore.cpp
  builder/instruction.cpp builder/lexer.cpp builder/model.cpp builder/modeljson.cpp builder/parser.cpp
  builder/scope.cpp builder/shellword.cpp builder/stagegraph.cpp builder/words.cpp
  base/error.cpp base/fileio.cpp base/strings.cpp oci/digest.cpp tests/fuzz/fuzz_parse.cpp"
for rel in $sources; do
  src="$root/$rel"
  obj="$out/obj/$(echo "$rel" | sed 's|/|_|g').o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$root/builder" "$root/base" "$root/oci" -name '*.hpp' -newer "$obj" | head -1)" ]; then
    # shellcheck disable=SC2086
    $cxx $flags -c "$src" -o "$obj"
  fi
  objs="$objs $obj"
done
# shellcheck disable=SC2086
$cxx $flags $objs -o "$out/fuzz_parse" -lfmt -lcrypto
case "${1:-}" in
  --build) exit 0 ;;
  --merge)
    mkdir -p "$out/merged"
    rm -rf "$out/merged"/*
    nice -n 19 "$out/fuzz_parse" -merge=1 -use_counters=0 "$out/merged" "$root/tests/fuzz/corpus" "$out/corpus-new"
    rm -f "$root/tests/fuzz/corpus"/*
    cp "$out/merged"/* "$root/tests/fuzz/corpus/"
    exit 0 ;;
  --replay) shift; exec "$out/fuzz_parse" "$@" ;;
esac
seconds=${1:-600}
cd "$out"
exec nice -n 19 "$out/fuzz_parse" -jobs=1 -workers=1 -max_total_time="$seconds" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 "$out/corpus-new" "$root/tests/fuzz/corpus"
