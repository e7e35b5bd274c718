#!/usr/bin/env bash
# Runs `alexnet-cl selftest --tiny` on Oclgrind's simulated device with data-race and uninitialized-memory
# checks, and fails when Oclgrind logs anything: its exit code alone says nothing about what it found.
# Usage: scripts/oclgrind-check.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
shift || true
icd=$(dpkg -L oclgrind 2>/dev/null | grep 'liboclgrind-rt-icd.so$' | head -n1 || true)
[ -n "$icd" ] || { echo "oclgrind-check: oclgrind is not installed (scripts/setup.sh installs it)"; exit 1; }
vendors=$(mktemp -d)
trap 'rm -rf "$vendors"' EXIT
echo "$icd" >"$vendors/oclgrind.icd"
log="$build/oclgrind.log"
rm -f "$log"
# Oclgrind alone on the loader's list, so device 0 is the simulator.
OCL_ICD_VENDORS="$vendors" OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1 OCLGRIND_LOG="$log" \
  OCLGRIND_CHECK_API=1 ACL_CACHE_DIR="" "$build/alexnet-cl" selftest --tiny --device oclgrind "$@" || rc=$?
# Show Oclgrind's findings even when the selftest itself failed: they usually explain it.
if [ -s "$log" ]; then
  echo "oclgrind-check: Oclgrind reported problems:"
  head -n 60 "$log"
  exit 1
fi
[ "${rc:-0}" -eq 0 ] || { echo "oclgrind-check: selftest failed on Oclgrind (exit $rc)"; exit "$rc"; }
echo "oclgrind-check: no races, uninitialized reads or out-of-bounds accesses reported"
