#!/usr/bin/env bash
# compare_torch.sh: alexnet-cl against PyTorch on the same network, batch size and thread count, in one invocation:
# training and inference images/s and peak host memory, with the ratios engine / PyTorch.
#
# usage: scripts/compare_torch.sh [--model paper|torchvision|mini|FILE] [--batch N] [--threads T] [--steps N]
#                                 [--classes N] [--bin PATH/TO/alexnet-cl] [-- MORE BENCH ARGUMENTS]
# Defaults: --model mini --batch 32 --threads 2 --steps 5 --bin build/alexnet-cl; --classes 10 for mini, else 1000.
#
# The engine runs `alexnet-cl bench --json` (which also measures its cold and warm start); PyTorch runs
# scripts/torch_bench.py with Debian's /usr/bin/python3 (python3-torch), on the network that
# `alexnet-cl model --description` prints, so both run the same layers whatever the preset or description file.
#
# Threads: PyTorch gets torch.set_num_threads(T) (and OMP_NUM_THREADS=T). The engine runs on PoCL's CPU driver,
# whose worker-thread count is POCL_MAX_PTHREAD_COUNT in PoCL 3.x (Debian 12's 3.1; it also sets the device's
# compute units, as the CUs column of `alexnet-cl devices` shows) and POCL_CPU_MAX_CU_COUNT in PoCL 4 and
# later: both are set to T. They only matter when the engine's device is PoCL's CPU device.
#
# Peak memory is each process's maximum resident set (getrusage). On a CPU device the engine's buffers live in
# host memory, so its figure includes them; the engine's planned device allocation is shown too.
# The machine may be shared: the two runs follow each other, so compare the ratios, and rerun when in doubt.
# Other variables pass through: OMP_WAIT_POLICY=PASSIVE scripts/compare_torch.sh ... keeps PyTorch's OpenMP
# threads from spinning (better on a busy machine, worse on a quiet one; the default is PyTorch's as installed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
model=mini batch=32 threads=2 steps=5 classes="" bin="$here/../build/alexnet-cl"
extra=()

die_usage() {
  echo "compare_torch.sh: $*" >&2
  echo "usage: scripts/compare_torch.sh [--model M] [--batch N] [--threads T] [--steps N] [--classes N] [--bin PATH] [-- BENCH ARGS]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case $1 in
    --model | --batch | --threads | --steps | --classes | --bin)
      [ $# -ge 2 ] || die_usage "$1 needs a value"
      case $1 in
        --model) model=$2 ;;
        --batch) batch=$2 ;;
        --threads) threads=$2 ;;
        --steps) steps=$2 ;;
        --classes) classes=$2 ;;
        --bin) bin=$2 ;;
      esac
      shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die_usage "unknown argument \"$1\"" ;;
  esac
done
for pair in "--batch:$batch" "--threads:$threads" "--steps:$steps" ${classes:+"--classes:$classes"}; do
  [[ ${pair#*:} =~ ^[1-9][0-9]*$ ]] || die_usage "${pair%%:*} wants a positive integer, not \"${pair#*:}\""
done
[ -n "$classes" ] || { [ "$model" = mini ] && classes=10 || classes=1000; }
[ -x "$bin" ] || { echo "compare_torch.sh: $bin is not an executable alexnet-cl: build first, or give --bin" >&2; exit 1; }
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "compare_torch.sh: /usr/bin/python3 cannot import torch: install Debian's python3-torch" >&2
  exit 77
fi

# PyTorch's OpenMP threads spin at barriers; on cores that other processes also want, each parallel op then waits
# for a time slice (measured here at load 6 on 2 cores: a ReLU of 400 K floats took 15 ms instead of 0.1 ms,
# and OMP_WAIT_POLICY=PASSIVE cut that 4-fold). The load is printed so that such a run can be told apart.
load() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
cores=$(nproc 2>/dev/null || echo "?")
warn_load() {
  local l
  l=$(load)
  echo "load average $l on $cores cores before the $1 run"
  if [ "$cores" != "?" ] && [ "$l" != "?" ] && awk -v l="$l" -v c="$cores" 'BEGIN { exit !(l > c - 0.5) }'; then
    echo "WARNING: the machine is busy; both figures suffer, PyTorch's OpenMP threads most: rerun when it is quiet"
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" model --model "$model" --classes "$classes" --description >"$tmp/net.txt"

warn_load alexnet-cl
echo "== alexnet-cl (POCL_MAX_PTHREAD_COUNT=$threads POCL_CPU_MAX_CU_COUNT=$threads)"
POCL_MAX_PTHREAD_COUNT=$threads POCL_CPU_MAX_CU_COUNT=$threads \
  "$bin" bench --model "$model" --batch "$batch" --steps "$steps" --classes "$classes" --json ${extra[@]+"${extra[@]}"} |
  tee "$tmp/engine.out"
warn_load PyTorch
echo "== PyTorch (torch.set_num_threads($threads))"
OMP_NUM_THREADS=$threads /usr/bin/python3 "$here/torch_bench.py" --description "$tmp/net.txt" --classes "$classes" \
  --batch "$batch" --steps "$steps" --threads "$threads" --name "$model" | tee "$tmp/torch.out"

echo
tail -n 1 "$tmp/engine.out" >"$tmp/engine.json"
tail -n 1 "$tmp/torch.out" >"$tmp/torch.json"
/usr/bin/python3 - "$tmp/engine.json" "$tmp/torch.json" "$threads" <<'EOF'
import json, sys
e, t = (json.load(open(p)) for p in sys.argv[1:3])
threads = sys.argv[3]
mib = 2.0 ** 20
print(f"{e['model']}, batch {e['batch']}, {e['steps']} timed steps (medians), {threads} threads")
print(f"engine: {e['device']}; PyTorch: {t['device']}")
print(f"{'figure':24s} {'alexnet-cl':>12s} {'PyTorch':>12s} {'engine/PyTorch':>15s}")
rows = [("train images/s", e["train_images_per_s"], t["train_images_per_s"], "{:.2f}"),
        ("inference images/s", e["infer_images_per_s"], t["infer_images_per_s"], "{:.2f}"),
        ("peak host memory MiB", e["peak_host_bytes"] / mib, t["peak_host_bytes"] / mib, "{:.1f}")]
# Processor seconds per image (lower is better, so the ratio is PyTorch / engine, > 1 when the engine does better):
# a busy machine changes the engine's far less than its wall time, but PyTorch's OpenMP threads count their
# spinning as processor time, so a busy run inflates PyTorch's too. Only when both sides report them.
cpu = [(n, e.get(k), t.get(k)) for n, k in (("train", "train_cpu_s"), ("inference", "infer_cpu_s"))]
for name, a, b, fmt in rows:
    print(f"{name:24s} {fmt.format(a):>12s} {fmt.format(b):>12s} {a / b:15.2f}")
for name, a, b in cpu:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0 and b > 0:
        print(f"{name + ' cpu ms/image':24s} {1e3 * a / e['batch']:12.2f} {1e3 * b / t['batch']:12.2f} "
              f"{b / a:15.2f}  (PyTorch/engine)")
print(f"{'planned device MiB':24s} {e['peak_device_bytes'] / mib:12.1f} {'-':>12s}")
for key, name in (("cold_start_s", "cold start s"), ("warm_start_s", "warm start s")):
    if isinstance(e.get(key), (int, float)):
        print(f"{name:24s} {e[key]:12.3f} {'-':>12s}")
EOF
