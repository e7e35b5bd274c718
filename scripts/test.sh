#!/usr/bin/env bash
# Runs every test: the CMocka suite on PoCL, again under AddressSanitizer and UndefinedBehaviorSanitizer,
# the kernel checks on tiny shapes under Oclgrind (data races, uninitialized reads, out-of-bounds), and each
# fuzz target of the readers of outside data for a few seconds.
# Usage: scripts/test.sh [--quick]   (--quick: the plain suite only). Run scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
export POCL_CACHE_DIR="$PWD/build/pocl-cache"
mkdir -p "$POCL_CACHE_DIR"

# The golden check against PyTorch needs Debian's python3-torch (large, so setup.sh leaves it to the tests).
if ! dpkg-query -W -f='${Status}' python3-torch 2>/dev/null | grep -q "install ok installed"; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test: installing python3-torch python3-numpy for the PyTorch golden test"
  $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-torch python3-numpy >/dev/null
fi

echo "== tests on PoCL (warnings are errors)"
cmake -S . -B build -DACL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure

[ "${1:-}" = "--quick" ] && exit 0

echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DACL_WERROR=ON -DACL_SANITIZE=ON -DACL_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
# The OpenCL loader and PoCL keep allocations alive until exit by design: leaks are not ours to judge.
ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure

echo "== kernels under Oclgrind (tiny shapes)"
scripts/oclgrind-check.sh build

echo "== fuzz targets, briefly (libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer)"
# A fixed seed, so a failure here replays on the same machine and a pass does not hinge on the draw; searching
# with new seeds is for longer runs by hand (scripts/fuzz.sh 600), whose finds become seeds and tests.
ACL_FUZZ_SEED=${ACL_FUZZ_SEED:-1} scripts/fuzz.sh "${ACL_FUZZ_SECONDS:-10}"
