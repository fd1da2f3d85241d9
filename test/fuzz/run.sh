#!/usr/bin/env bash
# Fuzzes every trajectory decoder with libFuzzer under ASan + UBSan.
#   bash test/fuzz/run.sh [SECONDS]     (per decoder; default 60)
# Builds the targets with clang into build-fuzz/, seeds each corpus with
# valid files from the test writers, runs each target for SECONDS on one
# core, and fails if any target finds a crash, a leak, undefined behaviour,
# a timeout or a broken decoder contract. Crash inputs stay in
# build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

seconds=${1:-60}
out=${WESTREAM_FUZZ_DIR:-build-fuzz}
CXX=${FUZZ_CXX:-clang++}
command -v "$CXX" >/dev/null || { echo "fuzz: $CXX not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"
flags=(-std=gnu++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
       -Inative/formats -Itest/native -Itest/fuzz)
# The decoders once, instrumented for coverage.
objs=()
for src in native/formats/*.cpp; do
  [ "$(basename "$src")" = reader.cpp ] && continue
  o="$out/obj/$(basename "$src" .cpp).o"
  if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ native/formats/decoder.h -nt "$o" ] || [ native/formats/xdr.h -nt "$o" ]; then
    "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$o"
  fi
  objs+=("$o")
done
"$CXX" -std=gnu++17 -O1 -Inative/formats -Itest/native test/fuzz/make_seeds.cpp native/formats/xdr.cpp -o "$out/make_seeds"
"$out/make_seeds" "$out/corpus"

failed=()
for target in xtc trr dcd netcdf lammps; do
  bin="$out/fuzz_$target"
  "$CXX" "${flags[@]}" -fsanitize=fuzzer "test/fuzz/fuzz_$target.cpp" "${objs[@]}" -o "$bin"
  echo "== fuzz_$target: ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" "$out/corpus/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$out/artifacts/${target}-" -print_final_stats=1 >"$out/fuzz_$target.log" 2>&1; then
    tail -n 40 "$out/fuzz_$target.log"
    failed+=("$target")
  else
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$out/fuzz_$target.log" | tr '\n' ' '
    echo
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]} (inputs in $out/artifacts/)"
  echo "fuzz: 0 passed, ${#failed[@]} failed"
  exit 1
fi
echo "fuzz: 5 passed, 0 failed"
