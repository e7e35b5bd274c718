#!/usr/bin/env bash
# gpu_bench.sh: on a machine with an NVIDIA GPU and no network, installs what the build needs from .deb files
# brought along (scripts/fetch_debs.sh makes them), registers NVIDIA's OpenCL driver, builds, runs selftest and
# the benches on the NVIDIA device and PyTorch (CUDA) on the same presets, and prints engine/PyTorch ratios.
#
# Usage: scripts/gpu_bench.sh [--quick] [--budget SECONDS] [--debs DIR] [--out DIR] [--device N|NAME]
#                             [--tests] [--dry-run]
#   --quick     selftest --tiny, batch 32 only, 3 kernel-bench reps (default budget 480 s instead of 1500 s)
#   --budget    wall-clock seconds for the whole run; every step runs under `timeout` with what is left, and
#               steps run most valuable first (selftest, whole-model throughput and PyTorch's, kernel bench)
#   --debs      folder of .deb files (default $ACL_DEBS, else shared/debs)
#   --out       where logs and JSON go (default gpu-results/); copy this folder back
#   --device    the OpenCL device (index or part of a name); default the first NVIDIA device
#   --tests     also build the CMocka tests (installs CMocka; they are not run: the bench needs no tests)
#   --dry-run   print the plan and the commands, change nothing
# Environment: ACL_GPU_ALLOW_CPU=1 runs on any OpenCL device (no NVIDIA registration: a check of the whole path
# on a CPU through PoCL); ACL_GPU_UNPACK=1 unpacks the .deb files into build-deps/root even when dpkg -i could
# install them; ACL_BUILD_DIR (default build).
set -uo pipefail   # no -e: a failing step is recorded and the next one runs

cd "$(dirname "$0")/.." || exit 1
repo="$PWD"
quick=0 budget="" debs="${ACL_DEBS:-$repo/shared/debs}" out="$repo/gpu-results" device="" tests=0 dry=0
allow_cpu="${ACL_GPU_ALLOW_CPU:-0}"
build="${ACL_BUILD_DIR:-build}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --budget) budget="${2:?--budget needs seconds}"; shift ;;
    --debs) debs="${2:?--debs needs a folder}"; shift ;;
    --out) out="${2:?--out needs a folder}"; shift ;;
    --device) device="${2:?--device needs a value}"; shift ;;
    --tests) tests=1 ;;
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_bench: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$budget" ] || { [ "$quick" -eq 1 ] && budget=480 || budget=1500; }
case "$budget" in ''|*[!0-9]*) echo "gpu_bench: --budget wants whole seconds, not \"$budget\"" >&2; exit 2 ;; esac
deadline=$(( $(date +%s) + budget ))
mkdir -p "$out" || exit 1
out="$(cd "$out" && pwd)"
steps="$out/steps.tsv"
[ "$dry" -eq 1 ] || printf 'step\trc\tseconds\tlog\n' > "$steps"

say() { echo "gpu_bench: $*" | tee -a "$out/gpu_bench.log" >&2; }
die() { say "ERROR: $*"; exit 1; }

as_root=()   # the command prefix that runs as root, or (none)
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(none); fi
fi

# step NAME LIMIT CMD...: runs CMD under `timeout` (LIMIT seconds, or what is left of the budget if less), with
# its output in $out/NAME.log, and records the exit status. 124 means it ran out of time.
step() {
  local name="$1" limit="$2"; shift 2
  local left=$(( deadline - $(date +%s) ))
  if [ "$dry" -eq 1 ]; then
    printf '  [%4ss] %-22s %s\n' "$limit" "$name" "$*"
    return 0
  fi
  if [ "$left" -lt 15 ]; then
    say "skipping $name: ${left}s of the budget left"
    printf '%s\tskipped\t0\t-\n' "$name" >> "$steps"
    return 125
  fi
  [ "$limit" -gt "$left" ] && limit="$left"
  say "$name (at most ${limit}s): $*"
  local t0 rc
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" "$name.log" >> "$steps"
  [ "$rc" -eq 124 ] && say "$name ran out of time (${limit}s); see $out/$name.log"
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && say "$name failed (exit $rc); last lines of $out/$name.log:" &&
    tail -n 5 "$out/$name.log" >&2
  return "$rc"
}

# ---------------------------------------------------------------- 1. packages from .deb files
pkgs=(ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers opencl-clhpp-headers opencl-headers
      libclblast1 libclblast-dev libstb0 libstb-dev zlib1g-dev)
[ "$tests" -eq 1 ] && pkgs+=(libcmocka0 libcmocka-dev)
missing=()
for p in "${pkgs[@]}"; do
  if [ "${ACL_GPU_UNPACK:-0}" = 1 ] || ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
prefix="$repo/build-deps/root"   # the unpack fallback: a private /usr, matched by .gitignore's /build*/
debfiles=()
for p in "${missing[@]}"; do
  f="$(find "$debs" -maxdepth 1 -name "${p}_*.deb" 2>/dev/null | sort | tail -n1)"
  if [ -z "$f" ]; then
    case "$p" in
      libcmocka*) say "no $p in $debs: building without the tests"; tests=0 ;;
      *) die "$p is not installed and there is no ${p}_*.deb in $debs: run scripts/fetch_debs.sh on a machine" \
             "with network and bring the folder along (--debs DIR or ACL_DEBS)" ;;
    esac
  else
    debfiles+=("$f")
  fi
done
unpacked=0
if [ ${#debfiles[@]} -eq 0 ]; then
  say "packages: all of ${pkgs[*]} are installed"
elif [ "$dry" -eq 1 ]; then
  echo "plan: install ${#debfiles[@]} .deb files from $debs (dpkg -i as root, else unpack into $prefix):"
  printf '  %s\n' "${debfiles[@]##*/}"
else
  if [ "${ACL_GPU_UNPACK:-0}" != 1 ] && [ "${as_root[0]:-}" != none ] && command -v dpkg >/dev/null &&
     step install-debs 120 "${as_root[@]}" dpkg -i "${debfiles[@]}"; then
    say "packages: installed ${#debfiles[@]} .deb files with dpkg -i"
  else
    # No root, no dpkg, or dpkg refused them (another distribution's libc): unpack into a private prefix.
    say "packages: unpacking ${#debfiles[@]} .deb files into $prefix (no dpkg -i)"
    mkdir -p "$prefix"
    for f in "${debfiles[@]}"; do
      if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$f" "$prefix" || die "cannot unpack $f"
      else (cd "$prefix" && ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -x -a -f - 2>/dev/null ||
              ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -xJ) || die "cannot unpack $f (needs ar and tar)"
      fi
    done
    # Absolute links (libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13) point at this machine's files: into the
    # prefix where the target is there, else at whatever this machine's loader has under the same name.
    while IFS= read -r l; do
      t="$(readlink "$l")"
      case "$t" in /*) ;; *) continue ;; esac
      if [ -e "$prefix$t" ]; then ln -sfn "$prefix$t" "$l"
      elif [ ! -e "$t" ]; then
        h="$(ldconfig -p 2>/dev/null | awk -v n="${l##*/}." 'index($1, n) == 1 && /x86-64/ { print $NF; exit }')"
        if [ -n "$h" ]; then ln -sfn "$h" "$l"; else say "warning: $l points at $t, which is not here"; fi
      fi
    done < <(find "$prefix" -type l)
    unpacked=1
  fi
fi
cmake_extra=()
if [ "$unpacked" -eq 1 ]; then
  libdir="$prefix/usr/lib/x86_64-linux-gnu"
  # The .pc files say prefix=/usr: point them at the private prefix.
  for pc in "$libdir"/pkgconfig/*.pc; do [ -f "$pc" ] && sed -i "s|^prefix=/usr\$|prefix=$prefix/usr|" "$pc"; done
  export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CMAKE_PREFIX_PATH="$prefix/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  cmake_extra+=(-DOpenCL_INCLUDE_DIR="$prefix/usr/include" -DOpenCL_LIBRARY="$libdir/libOpenCL.so")
fi

# ---------------------------------------------------------------- 2. NVIDIA's OpenCL driver
gpu_info="$out/nvidia-smi.txt"
if [ "$dry" -eq 0 ] && command -v nvidia-smi >/dev/null; then
  timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv \
    > "$gpu_info" 2>&1
  timeout 30 nvidia-smi >> "$gpu_info" 2>&1
fi
if [ "$allow_cpu" = 1 ]; then
  say "ACL_GPU_ALLOW_CPU=1: not registering NVIDIA's OpenCL driver; any OpenCL device will do"
elif grep -qsl 'nvidia' /etc/OpenCL/vendors/*.icd; then
  say "OpenCL: NVIDIA's driver is registered ($(grep -ls nvidia /etc/OpenCL/vendors/*.icd | head -n1))"
else
  lib="$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1 .*x86-64/ { print $NF; exit }')"
  if [ -z "$lib" ]; then
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib \
             /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu/nvidia/current; do
      [ -e "$d/libnvidia-opencl.so.1" ] && { lib="$d/libnvidia-opencl.so.1"; break; }
    done
  fi
  [ -n "$lib" ] || lib="$(find /usr /opt -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n1)"
  if [ -z "$lib" ] && [ "$dry" -eq 1 ]; then
    echo "plan: libnvidia-opencl.so.1 not found here: the real run would stop at this point"
  elif [ -z "$lib" ]; then
    die "NVIDIA's OpenCL driver (libnvidia-opencl.so.1) is not on this machine (looked in ldconfig -p, /usr/lib*," \
        "/usr/local/nvidia, /usr/local/cuda, /opt). The driver is installed without its OpenCL part: install" \
        "libnvidia-opencl (e.g. the libnvidia-compute or nvidia-opencl-icd package matching the driver" \
        "$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n1)), or set" \
        "ACL_GPU_ALLOW_CPU=1 to run on another OpenCL device"
  elif [ "$dry" -eq 1 ]; then
    echo "plan: register $lib in /etc/OpenCL/vendors/nvidia.icd (or a private folder through OCL_ICD_VENDORS)"
  elif [ "${as_root[0]:-}" != none ] && "${as_root[@]}" mkdir -p /etc/OpenCL/vendors &&
       echo "$lib" | "${as_root[@]}" tee /etc/OpenCL/vendors/nvidia.icd >/dev/null; then
    say "OpenCL: registered $lib in /etc/OpenCL/vendors/nvidia.icd"
  else
    mkdir -p "$repo/build-deps/vendors" && echo "$lib" > "$repo/build-deps/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$repo/build-deps/vendors"
    say "OpenCL: no root; registered $lib through OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
  fi
fi

# ---------------------------------------------------------------- 3. build
jobs="$(nproc 2>/dev/null || echo 2)"
[ "$tests" -eq 1 ] && tests_opt=ON || tests_opt=OFF
[ "$dry" -eq 1 ] && echo "plan (budget ${budget}s; [limit] step command):"
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$repo/$build/pocl-cache}"
step configure 120 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DACL_BUILD_TESTS="$tests_opt" \
  -DACL_BUILD_BENCH=ON "${cmake_extra[@]}" || die "cmake failed: see $out/configure.log"
step build 300 cmake --build "$build" -j"$jobs" || die "the build failed: see $out/build.log"
acl="$build/alexnet-cl"
kb="$build/bench/bench_kernels"

# ---------------------------------------------------------------- 4. device
step devices 60 "$acl" devices || die "alexnet-cl devices failed: no OpenCL platform? see $out/devices.log"
if [ -z "$device" ] && [ "$dry" -eq 0 ]; then
  # The first device row (index name ...) on a platform or with a name that says NVIDIA.
  device="$(awk '/^platform/ { nv = ($0 ~ /NVIDIA/) } /^  +[0-9]+ / && (nv || /NVIDIA/) { print $1; exit }' \
            "$out/devices.log")"
  if [ -z "$device" ]; then
    [ "$allow_cpu" = 1 ] || die "no NVIDIA OpenCL device in $out/devices.log; the ICD loader did not load" \
                                "NVIDIA's driver (check /etc/OpenCL/vendors, OCL_ICD_VENDORS, clinfo)"
    device=0
  fi
fi
device="${device:-<the NVIDIA device>}"
[ "$dry" -eq 1 ] || say "device: $device"

# ---------------------------------------------------------------- 5. steps, most valuable first
have_bench=0
if [ "$dry" -eq 1 ] || timeout 20 "$acl" bench --help >/dev/null 2>&1; then have_bench=1; fi
have_torch=0
if [ "$dry" -eq 1 ] || timeout 120 python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
     >/dev/null 2>&1; then
  have_torch=1
else
  say "no PyTorch with CUDA (python3 -c 'import torch; torch.cuda.is_available()'): no ratios"
fi
[ "$have_bench" -eq 1 ] || say "this build has no 'alexnet-cl bench': paper's training step from bench_kernels instead"

tiny=(); [ "$quick" -eq 1 ] && tiny=(--tiny)
step selftest 240 "$acl" selftest --device "$device" "${tiny[@]}"

batches=(32); [ "$quick" -eq 1 ] || batches=(32 128)
reps=3; [ "$quick" -eq 1 ] || reps=7
for b in "${batches[@]}"; do
  for m in paper torchvision; do
    if [ "$have_bench" -eq 1 ]; then
      step "engine-$m-b$b" 240 "$acl" bench --model "$m" --batch "$b" --device "$device" --json
    elif [ "$m" = paper ]; then
      # Without `alexnet-cl bench`, the kernel bench's whole training step (forward, loss, backward, update).
      step "engine-step-$m-b$b" 240 "$kb" --device "$device" --batch "$b" --reps "$reps" --only model \
        --json "$out/engine-step-$m-b$b.json"
    fi
    [ "$have_torch" -eq 1 ] && step "torch-$m-b$b" 180 python3 scripts/torch_gpu_bench.py --model "$m" --batch "$b" \
      --json "$out/torch-$m-b$b.json"
  done
  step "kernels-b$b" 300 "$kb" --device "$device" --batch "$b" --reps "$reps" --json "$out/kernels-b$b.json"
done
[ "$quick" -eq 1 ] || step selftest-tiny 120 "$acl" selftest --device "$device" --tiny
[ "$dry" -eq 1 ] && exit 0

# ---------------------------------------------------------------- 6. summary
# num FILE KEY: the first number after "KEY": in FILE (a JSON object on one line or several).
num() { [ -f "$1" ] && sed -n "s/.*\"$2\": *\\([-0-9.eE+]*\\).*/\\1/p" "$1" | head -n1; }
ratio() { awk -v a="${1%\*}" -v b="$2" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
cl_name="$(sed -n 's/^selftest on device [0-9]*: //p' "$out/selftest.log" 2>/dev/null | head -n1)"
smi_name="$(sed -n '2p' "$gpu_info" 2>/dev/null)"
{
  echo "alexnet-cl $(git rev-parse --short HEAD 2>/dev/null) on $(hostname), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "OpenCL device: ${cl_name:-?} (--device $device)"
  echo "nvidia-smi:    ${smi_name:-not available}"
  echo "selftest:      $(tail -n1 "$out/selftest.log" 2>/dev/null)"
  echo
  printf '%-12s %5s  %12s %12s %6s  %12s %12s %6s\n' model batch "engine train" "torch train" ratio \
    "engine infer" "torch infer" ratio
  for b in "${batches[@]}"; do
    for m in paper torchvision; do
      e="$out/engine-$m-b$b.log"
      [ -f "$e" ] && grep '^{' "$e" | tail -n1 > "$out/engine-$m-b$b.json"
      e="$out/engine-$m-b$b.json" t="$out/torch-$m-b$b.json"
      et="$(num "$e" train_images_per_s)" ei="$(num "$e" infer_images_per_s)"
      sf="$out/engine-step-$m-b$b.json"
      if [ -z "$et" ] && [ -f "$sf" ]; then
        et="$(awk -v b="$b" -F'"median_ms": ' '/"kernel": "model.step"/ { split($2, v, ","); if (v[1] > 0)
                printf "%.1f*", b * 1000 / v[1]; exit }' "$sf")"
      fi
      tt="$(num "$t" train_images_per_s)" ti="$(num "$t" infer_images_per_s)"
      printf '%-12s %5s  %12s %12s %6s  %12s %12s %6s\n' "$m" "$b" "${et:--}" "${tt:--}" "$(ratio "$et" "$tt")" \
        "${ei:--}" "${ti:--}" "$(ratio "$ei" "$ti")"
    done
  done
  echo
  echo "ratio = engine / PyTorch (img/s, higher is better for the engine). *: bench_kernels' model.step, as this"
  echo "build has no 'alexnet-cl bench' (forward, loss, backward and update, timed by OpenCL events)."
  for k in "$out"/kernels-b*.json; do
    [ -f "$k" ] || continue
    echo
    echo "${k##*/}: peaks copy $(num "$k" copy_gbs) GB/s, CLBlast SGEMM $(num "$k" gemm_gflops) GFLOP/s; slowest kernels:"
    awk -F'"' '/"kernel":/ { for (i = 1; i < NF; i++) { if ($i == "kernel") k = $(i + 2); if ($i == "shape") sh = $(i + 2)
                 if ($i == "median_ms") { split($(i + 1), v, /[:,]/); ms = v[2] + 0 } if ($i == "gflops") {
                 split($(i + 1), v, /[:,]/); gf = v[2] + 0 } }
               printf "  %10.3f ms %9.1f GFLOP/s  %-28s %s\n", ms, gf, k, sh }' "$k" | sort -rn | head -n 8
  done
  echo "steps (exit 124: out of time):"
  column -t -s $'\t' "$steps" 2>/dev/null || cat "$steps"
} | tee "$out/summary.txt"
say "everything is in $out (summary.txt, *.log, *.json)"
