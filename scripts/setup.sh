#!/usr/bin/env bash
# Installs what alexnet-cl needs from Debian's packages (only what is missing) and builds it in build/.
# Usage: scripts/setup.sh [extra cmake arguments]. Installing needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd
          libclblast-dev libstb-dev libcmocka-dev oclgrind clinfo zlib1g-dev dataset-fashion-mnist
          libopenblas-dev  # the host SGEMM peak of bench_kernels
          clang libclang-rt-dev)  # clang and its libFuzzer runtime: scripts/fuzz.sh
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built build/alexnet-cl"
