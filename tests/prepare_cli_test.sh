#!/usr/bin/env bash
# prepare_cli_test.sh: `alexnet-cl prepare` as a user meets it: wrong arguments, a folder with a bad image (skipped
# and named, or too many and no file left), --verify on a good and a damaged file, and (with an OpenCL device)
# `train` reading the prepared file in place of a folder, recognized by its content.
# Usage: prepare_cli_test.sh PATH/TO/alexnet-cl SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT
export ACL_CACHE_DIR=${ACL_CACHE_DIR:-$tmp/cache}

check() { # check NAME CONDITION...
  local name=$1
  shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $name"; fi
}

# A small folder from the image seeds of the fuzz corpus, and one empty file, which is a bad image.
img=$src/fuzz/corpus/image
mkdir -p "$tmp/d/cat" "$tmp/d/dog"
cp "$img/rgb_17x23.jpg" "$img/c3_7x9.png" "$img/c1_7x9.png" "$tmp/d/cat/"
cp "$img/gray_16x8.jpg" "$img/rgb_3x40.png" "$img/c4_7x9.png" "$tmp/d/dog/"
: >"$tmp/d/dog/empty.jpg"

expect "no arguments" 2 "--data DIR \(to prepare\) or --verify FILE is needed" -- "$bin" prepare
expect "help" 0 "usage: alexnet-cl prepare" -- "$bin" prepare --help
expect "listed in the commands" 0 "prepare +decode a dataset once" -- "$bin" --help
expect "unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" prepare --bogus
expect "bad size" 2 "--size wants an integer from 1 to 4096" -- "$bin" prepare --data "$tmp/d" --size 0
expect "bad fraction" 2 "--max-bad wants a fraction" -- "$bin" prepare --data "$tmp/d" --max-bad 1.5
expect "conflict" 2 "--data and --verify conflict" -- "$bin" prepare --data "$tmp/d" --verify x.prep
expect "missing folder" 1 "$tmp/no-such-data" -- "$bin" prepare --data "$tmp/no-such-data"

expect "too many bad" 1 "1 of 7 files are bad" -- "$bin" prepare --data "$tmp/d" --max-bad 0.1
check "too many bad: no file left" test ! -e "$tmp/d.prep" -a ! -e "$tmp/d.prep.tmp"
expect "bad image skipped and named" 0 "skipping bad image $tmp/d/dog/empty.jpg" -- \
  "$bin" prepare --data "$tmp/d/" --max-bad 0.2 --size 64 --threads 3
check "default output beside the folder" test -s "$tmp/d.prep"
expect "summary" 0 "prepared 6 images \(1 bad, skipped\) of 64x64x3 into $tmp/train.bin" -- \
  "$bin" prepare --data "$tmp/d" --out "$tmp/train.bin" --max-bad 0.2 --size 64 --threads 1
check "the same file on 1 or 3 threads" cmp -s "$tmp/d.prep" "$tmp/train.bin"
expect "already prepared" 1 "already a prepared dataset" -- "$bin" prepare --data "$tmp/train.bin"
expect "verify" 0 "6 images of 64x64x3 in 2 classes \(1 skipped as bad when it was made\): every image matches" -- \
  "$bin" prepare --verify "$tmp/train.bin"

# a damaged pixel: the file still opens (pixels are not hashed at every start) but --verify finds it
cp "$tmp/train.bin" "$tmp/damaged.bin"
printf '\377' | dd of="$tmp/damaged.bin" bs=1 seek=$((4096 + 2 * 64 * 64 * 3 + 10)) conv=notrunc status=none
expect "verify a damaged image" 1 "1 of 6 images do not match their checksums \(the first: image 2" -- \
  "$bin" prepare --verify "$tmp/damaged.bin"
head -c 5000 "$tmp/train.bin" >"$tmp/cut.bin"
expect "verify a truncated file" 1 "cut.bin: the header claims 6 images of 64x64x3" -- "$bin" prepare --verify "$tmp/cut.bin"
expect "train on a truncated file" 1 "cut.bin: the header claims 6 images" -- \
  "$bin" train --data "$tmp/cut.bin" --out "$tmp/o"
printf 'ACLPREP\0\2\0\0\0' >"$tmp/v2.bin"
head -c 200 /dev/zero >>"$tmp/v2.bin"
expect "train on another format version" 1 "v2.bin: prepared dataset of format version 2" -- \
  "$bin" train --data "$tmp/v2.bin" --out "$tmp/o"
expect "train: too small for the model" 1 "holds 64x64 images but the model paper takes 227x227: prepare it again with --size 227" -- \
  "$bin" train --model paper --data "$tmp/train.bin" --out "$tmp/o"

if "$bin" devices >/dev/null 2>&1; then
  cat >"$tmp/tiny.net" <<'EOF'
input name=tiny channels=3 height=48 width=48
conv name=conv1 out=4 kernel=5 stride=4
relu
maxpool size=3 stride=2
fc name=fc8 out=classes
EOF
  expect "train on prepared files" 0 "trained tiny for 2 steps" -- \
    "$bin" train --model "$tmp/tiny.net" --data "$tmp/train.bin" --val "$tmp/d.prep" --batch 4 --max-steps 2 \
    --out "$tmp/o"
  check "train wrote the mean image" test -s "$tmp/o/mean.npy"
else
  echo "SKIP train on prepared files: no OpenCL device"
fi

finish
