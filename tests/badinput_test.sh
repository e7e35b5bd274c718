#!/usr/bin/env bash
# badinput_test.sh: bad input met through the command line, one check per case (issue 3, "Bad input"): dataset
# folders that are missing, empty or hold bad files; checkpoints that are truncated, corrupt, of another version
# or of another model; an output folder that cannot be written or a disk that fills while a checkpoint is written;
# a loss that becomes NaN; wrong or conflicting arguments for every subcommand; net descriptions with unknown
# kinds or keys. Each check asserts the exit code and a phrase of the message (the path or the argument), and
# where a run fails, that the files it must not touch are byte for byte what they were.
# Training runs use a tiny RGB network on a folder of a few small images from fuzz/corpus/image, for 2-4 steps.
# Usage: badinput_test.sh PATH/TO/alexnet-cl SOURCE_DIR
set -u
bin=$1
src=$2
skipped=0
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
export ACL_CACHE_DIR="${ACL_CACHE_DIR:-$tmp/cache}"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
src=$(cd "$src" && pwd)
cd "$tmp" || exit 1 # a run that gets past its checks writes out/ here, not in the caller's folder
imgs=$src/fuzz/corpus/image

# has NAME PATTERN: the last command's output also matches PATTERN.
has() {
  if grep -qE -- "$2" <<<"$out"; then ok; else bad "$1: no /$2/ in the output above"; fi
}

# Every file under a folder with its checksum: a failed run must leave this unchanged (no new file either).
snap() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }
same() {
  local name=$1 dir=$2 before=$3
  if [ "$(snap "$dir")" = "$before" ]; then ok; else bad "$name: files in $dir changed:"; diff <(echo "$before") <(snap "$dir") | head; fi
}

# ---- data -----------------------------------------------------------------------------------------------------

# A folder of 8 good images in 2 classes (PNG and JPEG, RGB and gray, odd sizes).
good_folder() {
  mkdir -p "$1/a" "$1/b"
  for i in 1 2 3 4; do cp "$imgs/c${i}_7x9.png" "$1/a/"; done
  cp "$imgs/rgb_17x23.jpg" "$1/b/x1.jpg"
  cp "$imgs/gray_16x8.jpg" "$1/b/x2.jpg"
  cp "$imgs/rgb_3x40.png" "$1/b/x3.png"
  cp "$imgs/c2_7x9.png" "$1/b/x4.png"
}
good_folder "$tmp/good"
# The same with four bad files: 4 of 12.
good_folder "$tmp/bad"
echo "this is not an image" >"$tmp/bad/a/notimage.jpg"
head -c 300 "$imgs/rgb_17x23.jpg" >"$tmp/bad/a/truncated.jpg"
: >"$tmp/bad/b/empty.png"
cp "$imgs/claims_100000.png" "$tmp/bad/b/huge.png" # IHDR claims 100000x100000
cat >"$tmp/tiny.net" <<'EOF'
input name=tiny channels=3 size=16
conv name=conv1 out=4 kernel=3
relu
maxpool size=2 stride=2
fc name=fc out=classes
EOF
sed 's/out=4/out=6/' "$tmp/tiny.net" >"$tmp/tiny6.net"
run=(--model "$tmp/tiny.net" --batch 4 --threads 1)

expect "data: missing folder" 1 "dataset folder '$tmp/no-such-data' does not exist" -- \
  "$bin" train "${run[@]}" --data "$tmp/no-such-data" --out "$tmp/o"
mkdir -p "$tmp/empty"
expect "data: empty folder" 1 "image folder '$tmp/empty' has no class sub-folders" -- \
  "$bin" train "${run[@]}" --data "$tmp/empty" --out "$tmp/o"
mkdir -p "$tmp/noimg/a" "$tmp/noimg/b" && cp "$imgs/c1_7x9.png" "$tmp/noimg/a/" && echo notes >"$tmp/noimg/b/notes.txt"
expect "data: class folder without images" 1 "class folder '$tmp/noimg/b' has no images" -- \
  "$bin" train "${run[@]}" --data "$tmp/noimg" --out "$tmp/o"
# With DIR/train, the message is about DIR/train's class, not about DIR itself as a folder of classes.
mkdir -p "$tmp/split" && cp -r "$tmp/noimg" "$tmp/split/train"
expect "data: class folder without images in DIR/train" 1 "class folder '$tmp/split/train/b' has no images" -- \
  "$bin" train "${run[@]}" --data "$tmp/split" --out "$tmp/o"
mkdir -p "$tmp/split2" && cp -r "$tmp/good" "$tmp/split2/train" && mkdir -p "$tmp/split2/val/a"
expect "data: DIR/val that is wrong is an error, not ignored" 1 "class folder '$tmp/split2/val/a' has no images" -- \
  "$bin" train "${run[@]}" --data "$tmp/split2" --out "$tmp/o"
expect "data: missing --val" 1 "'$tmp/no-such-val' does not exist" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --val "$tmp/no-such-val" --out "$tmp/o"
# Bad files over the allowed fraction (1% by default) stop the run while the mean image is computed, before any
# device work, naming the file and the count, and pointing at --max-bad.
expect "data: too many bad files" 1 "1 of 12 files are bad .*over the allowed 1.00%.*$tmp/bad/a/notimage.jpg" -- \
  "$bin" train "${run[@]}" --data "$tmp/bad" --out "$tmp/o"
has "data: too many bad files names --max-bad" "--max-bad F"
expect "data: --max-bad 0.2 stops at the third of 4 bad in 12" 1 "3 of 12 files are bad .*over the allowed 20.00%" -- \
  "$bin" train "${run[@]}" --data "$tmp/bad" --out "$tmp/o" --max-bad 0.2
# An image whose header claims 100000x100000 pixels is refused from its header: under a 1.5 GB address-space
# limit (the decode would want 30 GB), the message is the header's, not an allocation failure.
mkdir -p "$tmp/huge/a" && cp "$imgs/c1_7x9.png" "$tmp/huge/a/" && cp "$imgs/claims_100000.png" "$tmp/huge/a/huge.png"
# (The inner shell waits for the probe, so that a sanitizer build's abort is reported to /dev/null.)
if [ "$(bash -c 'ulimit -v 1500000 && "$0" --version >/dev/null 2>&1; echo $?' "$bin" 2>/dev/null)" = 0 ]; then
  expect "data: huge PNG refused from its header, no large allocation" 1 \
    "$tmp/huge/a/huge.png: the header claims 100000x100000 pixels" -- \
    bash -c 'ulimit -v 1500000 && exec "$@"' sh "$bin" train "${run[@]}" --data "$tmp/huge" --out "$tmp/o"
else
  skipped=$((skipped + 1))
  echo "SKIP huge PNG under ulimit -v: this build cannot run with an address-space limit (a sanitizer?)"
fi

# ---- wrong or conflicting arguments: a usage message naming the argument, exit 2 --------------------------------

expect "devices: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" devices --bogus
expect "devices: stray argument" 2 "unknown argument \"extra\"" -- "$bin" devices extra
expect "selftest: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" selftest --bogus
expect "selftest: missing value" 2 "--op needs a value" -- "$bin" selftest --op
expect "model: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" model --bogus
expect "model: unknown option with a value" 2 "unknown argument \"--bogus\"" -- "$bin" model --bogus 3
expect "model: missing value" 2 "--classes needs a value" -- "$bin" model --classes
expect "model: out of range" 2 "--classes wants an integer from 1" -- "$bin" model --classes 0
expect "model: not a number" 2 "--batch wants an integer" -- "$bin" model --batch 12x
expect "model: unknown model" 2 "--model \"no-such-model\" is neither a preset" -- "$bin" model --model no-such-model
expect "model: a folder as --model" 2 "--model \"$tmp\" is neither a preset .*it is a folder" -- "$bin" model --model "$tmp"
expect "infer: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" infer --bogus
expect "infer: missing value" 2 "--input needs a value" -- "$bin" infer --model mini --input
expect "infer: out of range" 2 "--batch wants an integer from 1" -- "$bin" infer --batch 0
expect "infer: missing arguments" 2 "--weights, --input and --output are all needed" -- "$bin" infer --model mini
expect "infer: unknown model" 2 "--model \"no-such-model\" is neither a preset" -- \
  "$bin" infer --model no-such-model --weights w --input x.npy --output y.npy
expect "train: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" train --bogus
expect "train: stray argument" 2 "unknown argument \"data\"" -- "$bin" train data
expect "train: missing value" 2 "--batch needs a value" -- "$bin" train --batch
expect "train: out-of-range integer" 2 "--batch wants an integer from 1" -- "$bin" train --batch 0
expect "train: negative epochs" 2 "--epochs wants an integer from 0" -- "$bin" train --epochs -1
expect "train: not a number" 2 "--lr wants a number" -- "$bin" train --lr abc
expect "train: out-of-range number" 2 "--lr wants a number from .* not \"1e6\"" -- "$bin" train --lr 1e6
expect "train: --max-bad of 1" 2 "--max-bad wants a number from 0 to 0.999" -- "$bin" train --max-bad 1
expect "train: --max-bad below 0" 2 "--max-bad wants a number" -- "$bin" train --max-bad -0.1
expect "train: zero threads" 2 "--threads wants an integer from 1" -- "$bin" train --threads 0
expect "train: unknown init" 2 "--init is paper or he" -- "$bin" train --init xavier
expect "train: unknown policy" 2 "--lr-policy is step or plateau" -- "$bin" train --lr-policy cosine
expect "train: zero epochs" 2 "--epochs 0 trains nothing" -- "$bin" train --epochs 0
expect "train: unknown model" 2 "--model \"no-such-model\" is neither a preset" -- \
  "$bin" train --model no-such-model --out "$tmp/o"
expect "train: --weights with --resume" 2 "--weights and --resume conflict" -- \
  "$bin" train --resume c.ckpt --weights w.safetensors
expect "train: --lr with --resume" 2 "--lr and --resume conflict" -- "$bin" train --resume c.ckpt --lr 0.1
expect "train: --seed with --resume" 2 "--seed and --resume conflict" -- "$bin" train --seed 3 --resume c.ckpt
expect "train: --init with --resume" 2 "--init and --resume conflict" -- "$bin" train --resume c.ckpt --init he
expect "train: --help documents --max-bad" 0 "--max-bad F" -- "$bin" train --help

# ---- net descriptions: an unknown kind or key is an error naming the line ---------------------------------------

printf 'input channels=3 size=16\nconv out=4 kernel=3\npool size=2\nfc out=classes\n' >"$tmp/kind.net"
expect "netdesc: unknown layer kind" 1 "$tmp/kind.net:3: unknown layer kind \"pool\"" -- "$bin" model --model "$tmp/kind.net"
printf 'input channels=3 size=16\nconv out=4 kernel=3 bogus=1\nfc out=classes\n' >"$tmp/key.net"
expect "netdesc: unknown key" 1 "$tmp/key.net:2: unknown key \"bogus\" for conv" -- "$bin" model --model "$tmp/key.net"
printf 'input channels=3 size=16\nconv out=4 kernel=0\nfc out=classes\n' >"$tmp/value.net"
expect "netdesc: bad value" 1 "$tmp/value.net:2: kernel=0: wants an integer from 1" -- "$bin" model --model "$tmp/value.net"
printf 'input channels=3 size=16\nconv out=4 kernel\nfc out=classes\n' >"$tmp/kv.net"
expect "netdesc: not key=value" 1 "$tmp/kv.net:2: \"kernel\" is not key=value" -- "$bin" model --model "$tmp/kv.net"
printf 'input channels=4096 size=16384\nfc out=classes\n' >"$tmp/big.net"
expect "netdesc: input too large" 1 "$tmp/big.net:1: the input is too large" -- "$bin" model --model "$tmp/big.net"
expect "netdesc: through train" 1 "$tmp/key.net:2: unknown key \"bogus\"" -- \
  "$bin" train --model "$tmp/key.net" --data "$tmp/good" --batch 4 --out "$tmp/o"

# ---- output folder ----------------------------------------------------------------------------------------------

echo "keep me" >"$tmp/afile"
before=$(sha256sum "$tmp/afile")
expect "out: a file where the folder should be" 1 "cannot write to output folder $tmp/afile: Not a directory" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/afile"
[ "$(sha256sum "$tmp/afile")" = "$before" ] && ok || bad "out: $tmp/afile changed"
expect "out: a folder under a file" 1 "cannot write to output folder $tmp/afile/sub: Not a directory" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/afile/sub"
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$tmp/ro" && chmod 555 "$tmp/ro"
  expect "out: a read-only folder" 1 "cannot write to output folder $tmp/ro: Permission denied" -- \
    "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/ro"
else
  skipped=$((skipped + 1))
  echo "SKIP read-only output folder: running as root, which writes anyway"
fi

# ---- runs on a device -------------------------------------------------------------------------------------------

if ! "$bin" devices >/dev/null 2>&1; then
  echo "SKIP device checks: no OpenCL device"
  echo "$pass passed, $fail failed, $((skipped + 1)) skipped"
  [ "$fail" -eq 0 ]
  exit
fi

expect "device: selftest --device out of range" 2 "--device: device 999 does not exist" -- "$bin" selftest --device 999
expect "device: train --device out of range" 2 "--device: device 999 does not exist" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/o" --device 999
expect "device: train --device no such name" 2 "--device: no device name contains \"no-such-gpu\"" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/o" --device no-such-gpu

# Bad files within --max-bad: each skipped, named with its reason, and counted.
expect "data: bad files skipped within --max-bad" 0 "4 bad image files were skipped" -- \
  "$bin" train "${run[@]}" --data "$tmp/bad" --max-bad 0.4 --max-steps 2 --out "$tmp/o-bad"
has "data: not an image, named" "skipping bad image $tmp/bad/a/notimage.jpg: not a JPEG or PNG image"
has "data: truncated JPEG, named" "skipping bad image $tmp/bad/a/truncated.jpg: truncated JPEG"
has "data: zero-byte file, named" "skipping bad image $tmp/bad/b/empty.png: the file is empty"
has "data: huge PNG, named" "skipping bad image $tmp/bad/b/huge.png: the header claims 100000x100000 pixels"
has "data: bad files counted" "\(4 bad of 12 in $tmp/bad\)"

# A good run whose checkpoint (step 2) the checks below damage, resume from, or must leave intact.
expect "checkpoint: a good run" 0 "trained tiny for 2 steps" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 2 --out "$tmp/run"
ckpt=$tmp/run/checkpoint.ckpt
size=$(stat -c %s "$ckpt")

# resume_refused NAME PATTERN MODEL: copies the good run to a folder, lets damage() change its checkpoint, resumes it
# in place with MODEL, and wants exit 1, PATTERN, and every file of the folder as it was.
resume_refused() {
  local name=$1 pattern=$2 model=$3 dir=$tmp/ck-$RANDOM
  cp -r "$tmp/run" "$dir"
  damage "$dir/checkpoint.ckpt"
  local before
  before=$(snap "$dir")
  expect "checkpoint: $name" 1 "$pattern" -- "$bin" train --model "$model" --batch 4 --threads 1 --data "$tmp/good" \
    --max-steps 4 --out "$dir" --resume "$dir/checkpoint.ckpt"
  same "checkpoint: $name leaves the folder unchanged" "$dir" "$before"
}
damage() { head -c $((size / 2)) "$ckpt" >"$1"; }
resume_refused "truncated" "checkpoint.ckpt: truncated or corrupt checkpoint" "$tmp/tiny.net"
damage() { printf '\377' | dd of="$1" bs=1 seek=$((size - 20)) conv=notrunc status=none; }
resume_refused "corrupt" "checkpoint.ckpt: checksum mismatch: the checkpoint is corrupt" "$tmp/tiny.net"
damage() { printf '\143\000\000\000' | dd of="$1" bs=1 seek=8 conv=notrunc status=none; }
resume_refused "another format version" "checkpoint.ckpt is a checkpoint of format version 99; this alexnet-cl reads version" "$tmp/tiny.net"
damage() { echo "not a checkpoint" >"$1"; }
resume_refused "not a checkpoint" "checkpoint.ckpt is not an alexnet-cl checkpoint" "$tmp/tiny.net"
damage() { :; }
resume_refused "another model" "checkpoint.ckpt is a checkpoint of another model: line 2 of its description is \"conv name=conv1 out=4 kernel=3\" where the model requested has \"conv name=conv1 out=6 kernel=3\"" "$tmp/tiny6.net"
# A checkpoint resumed with another batch size: a usage error (exit 2) that names the batch to use.
dir=$tmp/ck-batch
cp -r "$tmp/run" "$dir"
before=$(snap "$dir")
expect "checkpoint: another --batch" 2 "checkpoint.ckpt was trained with batch 4; resume with --batch 4" -- \
  "$bin" train --model "$tmp/tiny.net" --batch 3 --threads 1 --data "$tmp/good" --max-steps 4 --out "$dir" \
  --resume "$dir/checkpoint.ckpt"
same "checkpoint: another --batch leaves the folder unchanged" "$dir" "$before"
expect "checkpoint: missing" 1 "cannot open checkpoint $tmp/no-such.ckpt" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 4 --out "$tmp/o" --resume "$tmp/no-such.ckpt"

# The disk fills while a checkpoint is written: RLIMIT_FSIZE below the checkpoint's size, SIGXFSZ ignored so that
# write() fails with EFBIG. The run fails saying so; the previous checkpoint stays byte for byte, no .tmp is left.
cp -r "$tmp/run" "$tmp/full"
before=$(sha256sum <"$tmp/full/checkpoint.ckpt")
limit=$(((size - 1) / 1024)) # 1024-byte blocks, below the checkpoint's size; metrics.jsonl stays under it
[ "$limit" -ge 1 ] || limit=1
expect "disk full: checkpoint write fails" 1 "writing checkpoint $tmp/full/checkpoint.ckpt failed: File too large" -- \
  bash -c 'trap "" XFSZ; ulimit -f '"$limit"' && exec "$@"' sh "$bin" train "${run[@]}" --data "$tmp/good" \
  --max-steps 4 --out "$tmp/full" --resume "$tmp/full/checkpoint.ckpt"
has "disk full: says the previous checkpoint is intact" "the previous checkpoint is intact"
[ "$(sha256sum <"$tmp/full/checkpoint.ckpt")" = "$before" ] && ok || bad "disk full: the checkpoint changed"
[ ! -e "$tmp/full/checkpoint.ckpt.tmp" ] && ok || bad "disk full: checkpoint.ckpt.tmp left behind"
expect "disk full: the checkpoint still resumes" 0 "trained tiny for 4 steps" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 4 --out "$tmp/full" --resume "$tmp/full/checkpoint.ckpt"

# The loss becomes NaN or infinite (learning rate 100): the run stops naming the step, exits 1, and the last good
# checkpoint is intact: it resumes, at the step the message gave.
expect "nan: training stops" 1 "the loss became (NaN|infinite) at step [0-9]+ .*training stopped; the last good checkpoint, of step [0-9]+, is $tmp/nan/checkpoint.ckpt" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --lr 100 --checkpoint-every 1 --max-steps 40 --out "$tmp/nan"
good_step=$(sed -n 's/.*checkpoint, of step \([0-9]*\),.*/\1/p' <<<"$out")
nan_step=$(sed -n 's/.*at step \([0-9]*\) .*/\1/p' <<<"$out")
[ -n "$good_step" ] && [ -n "$nan_step" ] && [ "$good_step" -eq $((nan_step - 1)) ] && ok ||
  bad "nan: the checkpoint's step ($good_step) is not the one before the NaN ($nan_step)"
grep -qiE "nan|inf" "$tmp/nan/metrics.jsonl" && bad "nan: metrics.jsonl holds a non-finite loss" || ok
expect "nan: the kept checkpoint loads" 0 "trained tiny for ${good_step:-?} steps" -- \
  "$bin" train "${run[@]}" --data "$tmp/good" --max-steps 1 --out "$tmp/nan" --resume "$tmp/nan/checkpoint.ckpt"
# 80 images: 20 steps an epoch, so the loss diverges before the first end-of-epoch checkpoint.
mkdir -p "$tmp/many/a" "$tmp/many/b"
for k in 0 1 2 3 4 5 6 7 8 9; do
  for f in "$tmp"/good/a/* "$tmp"/good/b/*; do cp "$f" "${f%/*}/$k-${f##*/}"; done
done
mv "$tmp"/good/a/?-* "$tmp/many/a/" && mv "$tmp"/good/b/?-* "$tmp/many/b/"
expect "nan: without a checkpoint yet, says so" 1 "at step [0-9]+ .*no checkpoint was written before it" -- \
  "$bin" train "${run[@]}" --data "$tmp/many" --lr 100 --max-steps 40 --out "$tmp/nan2"

# infer on a device that does not exist: the same usage error as the other commands (after the files are read).
npy_header="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 16, 16), }"
printf '\223NUMPY\001\000\166\000%-117s\n' "$npy_header" >"$tmp/x.npy" # 10 + 118 header bytes: 128
head -c 3072 /dev/zero >>"$tmp/x.npy"
expect "infer: runs on the test input" 0 "" -- \
  "$bin" infer --model "$tmp/tiny.net" --weights "$tmp/run/weights.safetensors" --input "$tmp/x.npy" --output "$tmp/y.npy"
expect "infer: the model stored in the weights" 0 "" -- \
  "$bin" infer --weights "$tmp/run/weights.safetensors" --input "$tmp/x.npy" --output "$tmp/y2.npy"
if cmp -s "$tmp/y.npy" "$tmp/y2.npy"; then ok; else bad "infer: without --model, the logits differ"; fi
expect "infer: --device out of range" 2 "--device: device 999 does not exist" -- \
  "$bin" infer --model "$tmp/tiny.net" --weights "$tmp/run/weights.safetensors" --input "$tmp/x.npy" \
  --output "$tmp/y.npy" --device 999

# An output path that exists but is not a regular file is refused, never replaced by the rename (as root, a
# device such as /dev/null would be); a missing folder is named.
mkfifo "$tmp/fifo"
expect "infer: output is a fifo" 1 "$tmp/fifo: exists and is not a regular file" -- \
  "$bin" infer --model "$tmp/tiny.net" --weights "$tmp/run/weights.safetensors" --input "$tmp/x.npy" --output "$tmp/fifo"
[ -p "$tmp/fifo" ] && ok || bad "infer: $tmp/fifo was replaced"
expect "infer: output in a missing folder" 1 "cannot create $tmp/no-such-dir/y.npy.tmp: No such file or directory" -- \
  "$bin" infer --model "$tmp/tiny.net" --weights "$tmp/run/weights.safetensors" --input "$tmp/x.npy" \
  --output "$tmp/no-such-dir/y.npy"

echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
