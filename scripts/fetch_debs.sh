#!/usr/bin/env bash
# fetch_debs.sh: on a Debian 12 machine WITH network, downloads the .deb files that scripts/gpu_bench.sh installs
# on a GPU machine WITHOUT network (the OpenCL ICD loader and headers, CLBlast, stb, CMocka, zlib's headers).
#
# Usage: scripts/fetch_debs.sh [--toolchain] [--no-tests] [DIR]     (DIR default: shared/debs, or $ACL_DEBS)
#   --toolchain  also fetch a compiler, make, cmake and pkg-config, for a GPU machine that has none
#   --no-tests   leave out CMocka (gpu_bench.sh then builds without the tests)
#
# Which files: the packages above and every package they depend on (Depends and Pre-Depends, recursively, not
# Recommends), less what any Debian 12 machine that compiles C already has (libc6 and its headers, libgcc-s1,
# libstdc++6, zlib1g; the list is "present" below) and Essential packages. For the default set the closure is
# the 12 named packages themselves (3.4 MB): ocl-icd-libopencl1 needs only libc6, libclblast1 only
# libc6/libgcc-s1/libstdc++6. The NVIDIA driver brings libcuda and libnvidia-opencl but not the ICD loader
# (libOpenCL.so.1), which is Debian's ocl-icd-libopencl1. The files are for Debian 12 (bookworm, amd64); on
# another distribution dpkg may refuse them, and gpu_bench.sh then unpacks them into a folder instead.
# Downloading needs no root: apt-get download writes into the current folder.
set -euo pipefail

toolchain=0
tests=1
dir=""
for a in "$@"; do
  case "$a" in
    --toolchain) toolchain=1 ;;
    --no-tests) tests=0 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fetch_debs: unknown option $a (see --help)" >&2; exit 2 ;;
    *) dir="$a" ;;
  esac
done
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${dir:-${ACL_DEBS:-$root/shared/debs}}"

wanted=(ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-headers opencl-c-headers opencl-clhpp-headers
        libclblast1 libclblast-dev libstb0 libstb-dev zlib1g-dev)
[ "$tests" -eq 1 ] && wanted+=(libcmocka0 libcmocka-dev)
[ "$toolchain" -eq 1 ] && wanted+=(gcc make cmake pkg-config libc6-dev)

command -v apt-get >/dev/null || { echo "fetch_debs: apt-get not found: this script needs a Debian machine" >&2; exit 1; }

# The dependency closure, walked by hand so that it stops at what any Debian 12 machine that can compile C has
# (the C library and its headers, the compiler's runtime, zlib), and at Essential packages. apt-cache prints
# virtual packages as <name> and alternatives with a leading |: a virtual one is skipped (the real package
# that provides it is in the list: ocl-icd-libopencl1 for libopencl1), and of alternatives the first is taken.
present=" libc6 libc6-dev libc-dev-bin linux-libc-dev libcrypt1 libcrypt-dev libnsl2 libnsl-dev libtirpc3 libtirpc-dev
 libtirpc-common rpcsvc-proto libgcc-s1 libstdc++6 gcc-12-base zlib1g libssl3 "
[ "$toolchain" -eq 1 ] && present=" libc6 libgcc-s1 libstdc++6 gcc-12-base zlib1g "
keep=()
declare -A seen=()
queue=("${wanted[@]}")
while [ ${#queue[@]} -gt 0 ]; do
  p="${queue[0]}"
  queue=("${queue[@]:1}")
  [ -n "${seen[$p]:-}" ] && continue
  seen[$p]=1
  case "$present" in *" $p "*) continue ;; esac
  info="$(apt-cache show --no-all-versions "$p" 2>/dev/null)" ||
    { echo "fetch_debs: no package \"$p\" known to apt (run apt-get update?)" >&2; exit 1; }
  grep -q '^Essential: yes' <<<"$info" && continue
  keep+=("$p")
  mapfile -t deps < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
                        --no-enhances "$p" | awk '/^ *\|?(Pre)?Depends:/ && !alt { if ($2 !~ /^</) print $2 }
                                                  { alt = ($1 ~ /^\|/) }')
  queue+=("${deps[@]}")
done
mkdir -p "$dir"
echo "fetch_debs: downloading ${#keep[@]} packages into $dir: ${keep[*]}"
(cd "$dir" && apt-get download -q "${keep[@]}")
printf '%s\n' "${keep[@]}" > "$dir/PACKAGES"
echo "fetch_debs: done; $(find "$dir" -maxdepth 1 -name '*.deb' | wc -l) .deb files, $(du -sh "$dir" | cut -f1)."
echo "fetch_debs: copy $dir to the GPU machine (shared/debs there) and run scripts/gpu_bench.sh"
