#!/usr/bin/env bash
# perf_measure.sh: the measurements behind the README's Performance and Tuning sections, in one sequence on a
# machine left otherwise idle: tune the paper preset at batch 32 into a fresh cache folder, then the kernel
# bench (paper and torchvision, batch 32 and 128), a training step layer by layer, the PyTorch comparisons
# (scripts/compare_torch.sh) and a cold start, every run reading that tuning table.
# Usage: scripts/perf_measure.sh [OUT_DIR]   (default perf-out; progress in OUT_DIR/progress.txt; 15-20 min)
# Needs a Release build in build/ (scripts/setup.sh -DCMAKE_BUILD_TYPE=Release) and python3-torch.
set -u
cd "$(dirname "$0")/.."
out=${1:-perf-out}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export POCL_CACHE_DIR="$work/pocl" ACL_CACHE_DIR="$work/acl"
mkdir -p "$ACL_CACHE_DIR"
log() { echo "== $(date +%H:%M:%S) $*" | tee -a "$out/progress.txt"; }
bk() { build/bench/bench_kernels "$@"; }
log tune
build/alexnet-cl tune --model paper --batch 32 --budget 300 -v >"$out/tune.txt" 2>&1
cp "$ACL_CACHE_DIR"/tune-*.txt "$out/" 2>/dev/null
log bench paper 32; bk --shapes paper --batch 32 --reps 5 --json "$out/bk-paper32.json" >"$out/bk-paper32.txt" 2>&1
log step paper 32; bk --shapes paper --batch 32 --reps 3 --only model >"$out/bk-paper32-model.txt" 2>&1
for m in paper torchvision mini; do
  log compare $m 32
  scripts/compare_torch.sh --model $m --batch 32 --threads 2 --steps 5 -- --no-cold >"$out/cmp-$m-32.txt" 2>&1
done
log bench torchvision 32; bk --shapes torchvision --batch 32 --reps 3 --json "$out/bk-tv32.json" >"$out/bk-tv32.txt" 2>&1
log bench paper 128; bk --shapes paper --batch 128 --reps 3 --json "$out/bk-paper128.json" >"$out/bk-paper128.txt" 2>&1
log compare paper 128
scripts/compare_torch.sh --model paper --batch 128 --threads 2 --steps 3 -- --no-cold >"$out/cmp-paper-128.txt" 2>&1
log bench torchvision 128; bk --shapes torchvision --batch 128 --reps 3 --json "$out/bk-tv128.json" >"$out/bk-tv128.txt" 2>&1
log cold start paper
ACL_CACHE_DIR="$work/acl-cold" POCL_CACHE_DIR="$work/pocl-cold" build/alexnet-cl bench --model paper --batch 32 \
  --steps 2 >"$out/start-paper.txt" 2>&1
log done
