#!/usr/bin/env bash
# Builds the libFuzzer targets fuzz/fuzz_*.c with clang (AddressSanitizer and UndefinedBehaviorSanitizer)
# and runs each over its seed corpus fuzz/corpus/<target>/ for a while; fails on any crash, leak or trap.
# Usage: scripts/fuzz.sh [SECONDS per target, default 30] [TARGET...]   (targets: fuzz/fuzz_TARGET.c; default all)
# New inputs the fuzzer finds go to build-fuzz/corpus/<target>/ (the committed seeds stay as they are);
# a crashing input is saved as build-fuzz/crash-<target>-*, to replay with build-fuzz/fuzz_<target> FILE.
# ACL_FUZZ_SEED=N starts libFuzzer's search from seed N (the default draws one; scripts/test.sh fixes it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=()
  for f in fuzz/fuzz_*.c; do t=${f#fuzz/fuzz_}; targets+=("${t%.c}"); done
fi
command -v clang >/dev/null || { echo "fuzz: clang is missing (Debian: clang libclang-rt-14-dev)" >&2; exit 1; }

out=build-fuzz
mkdir -p "$out"
# The readers and what they need from the library, compiled into each target (no OpenCL at run time).
lib=(src/io/*.c src/runtime/error.c)
flags=(-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -fno-omit-frame-pointer -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 -Iinclude -Isrc -Icl
       -Wall -Wextra -Werror -Wno-unused-parameter)

for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_$t.c" ] || { echo "fuzz: no target fuzz/fuzz_$t.c" >&2; exit 1; }
  echo "== fuzz_$t: building"
  # A target may name more sources and libraries on a line `// fuzz-sources: ...` / `// fuzz-libs: ...`.
  extra=$(sed -n 's|^// fuzz-sources: ||p' "fuzz/fuzz_$t.c")
  libs=$(sed -n 's|^// fuzz-libs: ||p' "fuzz/fuzz_$t.c")
  # Sources built with their own flags, as CMakeLists.txt builds them (the top of each file says why).
  srcs=()
  # shellcheck disable=SC2086
  for s in "${lib[@]}" $extra; do
    if [ "$s" = src/data/stb_image_impl.c ]; then
      clang "${flags[@]}" -fwrapv -fno-sanitize=undefined -c "$s" -o "$out/stb_image_impl.o"
      s=$out/stb_image_impl.o
    fi
    srcs+=("$s")
  done
  # shellcheck disable=SC2086
  clang "${flags[@]}" "fuzz/fuzz_$t.c" "${srcs[@]}" -o "$out/fuzz_$t" $libs
  mkdir -p "$out/corpus/$t"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "== fuzz_$t: running ${seconds}s over fuzz/corpus/$t"
  # -rss_limit_mb: a reader that allocates what a header claims would trip it; -timeout: one input hanging.
  seed=()
  [ -n "${ACL_FUZZ_SEED:-}" ] && seed=(-seed="$ACL_FUZZ_SEED")
  status=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$out/fuzz_$t" "${dict[@]}" "${seed[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$out/crash-$t-" "$out/corpus/$t" "fuzz/corpus/$t" \
    >"$out/fuzz_$t.log" 2>&1 || status=$?
  grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)" "$out/fuzz_$t.log" || true
  if [ "$status" -ne 0 ]; then
    grep -E -A12 "^==[0-9]+==(ERROR|WARNING)|runtime error|^SUMMARY" "$out/fuzz_$t.log" | head -40 >&2 || true
    echo "fuzz_$t: FAILED (exit $status); log $out/fuzz_$t.log, input $(ls "$out"/crash-"$t"-* 2>/dev/null | head -1)" >&2
    exit 1
  fi
  echo "fuzz_$t: no crash"
done
