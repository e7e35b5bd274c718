#!/usr/bin/env bash
# split_cli_test.sh: two devices from the command line (issue 4), on two PoCL devices (POCL_DEVICES="pthread
# pthread", set by CTest): the refusals of --devices and --split; training on two devices follows one device's
# losses; a checkpoint written on two devices resumes on one and the reverse, continuing as an uninterrupted run;
# -v reports the transfers; --split 0.7 and auto; eval and infer on two devices give one device's results.
# Usage: split_cli_test.sh PATH/TO/alexnet-cl PATH/TO/make_images
set -u
bin=$1 make_images=$2
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT

# The training losses of metrics.jsonl files (not the evaluations' lines), one per line.
losses() { sed -n 's/^{"step": .*"loss": \([-0-9.e]*\).*/\1/p' "$@"; }
# close A B: the two lists of numbers agree within a relative 1e-5, and are not empty.
close() {
  paste -d' ' <(echo "$1") <(echo "$2") | awk 'NF != 2 { bad = 1 } NF == 2 { d = $1 - $2; if (d < 0) d = -d;
    m = $2 < 0 ? -$2 : $2; if (d > 1e-5 * m + 1e-7) bad = 1; n++ } END { exit bad || n == 0 }'
}

n_devices=$("$bin" devices 2>/dev/null | grep -cE '^ *[0-9]+ ')
if [ "${n_devices:-0}" -lt 2 ]; then
  echo "SKIP: fewer than two OpenCL devices (POCL_DEVICES=\"pthread pthread\" gives PoCL two)"
  exit 0
fi

classes=(ant bee cat dog)
"$make_images" "$tmp/data/train" 4 1 "${classes[@]}" && "$make_images" "$tmp/data/val" 2 2 "${classes[@]}" ||
  { echo "FAIL: make_images"; exit 1; }
# A small AlexNet: grouped convs that read only their own device's channels, LRN across the split, dropout.
cat >"$tmp/small.net" <<'EOF'
input name=small channels=3 height=23 width=23
conv name=conv1 out=16 kernel=5 stride=2
relu
lrn size=5 alpha=1e-4 beta=0.75 k=2
maxpool size=3 stride=2
conv name=conv2 out=24 kernel=3 pad=1 groups=2
relu
conv name=conv3 out=16 kernel=3 pad=1
relu
maxpool size=2 stride=2
fc name=fc6 out=32
relu
dropout p=0.5
fc name=fc8 out=classes
EOF
train=("$bin" train --model "$tmp/small.net" --data "$tmp/data" --batch 5 --lr 0.01 --seed 7 --threads 1)

# ---- refusals, before any work ----
expect "same device twice" 2 "both entries name device 0" -- "${train[@]}" --devices 0,0 --out "$tmp/x"
expect "no such device" 2 "device 9 does not exist" -- "${train[@]}" --devices 0,9 --out "$tmp/x"
expect "one entry" 2 "wants exactly two devices" -- "${train[@]}" --devices 0 --out "$tmp/x"
expect "split out of range" 2 "--split 1.5: wants device 0's share" -- "${train[@]}" --devices 0,1 --split 1.5 --out "$tmp/x"
expect "split zero" 2 "--split 0: wants" -- "${train[@]}" --devices 0,1 --split 0 --out "$tmp/x"
expect "split without devices" 2 "--split 0.5 needs two devices" -- "${train[@]}" --split 0.5 --out "$tmp/x"
expect "device and devices" 2 "give one device with --device, or two with --devices" -- "${train[@]}" --device 0 --devices 0,1 --out "$tmp/x"
expect "a share too big for a device" 1 "device 0 \(.*\) cannot hold its share .* MiB short" -- \
  "$bin" train --model paper --data "$tmp/data" --batch 65536 --devices 0,1 --max-steps 1 --out "$tmp/x"

# ---- training: two devices follow one ----
expect "one device, 6 steps" 0 "trained small for 6 steps" -- "${train[@]}" --max-steps 6 --out "$tmp/one"
expect "two devices, 6 steps, -v" 0 "trained small for 6 steps" -- "${train[@]}" --max-steps 6 --devices 0,1 -v --out "$tmp/two"
grep -qE "^step 1: moved [0-9.]+ MiB between the devices in [0-9]+ copies .* busy: device 0 [0-9.]+ ms, device 1 [0-9.]+ ms" <<<"$out"
check "-v reports the transfers" $? "no per-step transfer line in: $(head -c 600 <<<"$out")"
ref=$(losses "$tmp/one/metrics.jsonl")
close "$ref" "$(losses "$tmp/two/metrics.jsonl")"
check "two devices' losses are one device's" $? "one: $(echo $ref) / two: $(echo $(losses "$tmp/two/metrics.jsonl"))"

# ---- checkpoints move between layouts: 3 steps on one, 3 on the other ----
expect "two devices, 3 steps" 0 "trained small" -- "${train[@]}" --max-steps 3 --devices 0,1 --out "$tmp/a"
expect "resumed on one device" 0 "trained small" -- "$bin" train --resume "$tmp/a/checkpoint.ckpt" --model "$tmp/small.net" \
  --data "$tmp/data" --batch 5 --threads 1 --max-steps 6 --out "$tmp/a"
close "$ref" "$(losses "$tmp/a/metrics.jsonl")"
check "2 devices -> 1 continues the run" $? "$(echo $(losses "$tmp/a/metrics.jsonl")) vs $(echo $ref)"
expect "one device, 3 steps" 0 "trained small" -- "${train[@]}" --max-steps 3 --out "$tmp/b"
expect "resumed on two devices" 0 "trained small" -- "$bin" train --resume "$tmp/b/checkpoint.ckpt" --model "$tmp/small.net" \
  --data "$tmp/data" --batch 5 --threads 1 --max-steps 6 --devices 0,1 --out "$tmp/b"
close "$ref" "$(losses "$tmp/b/metrics.jsonl")"
check "1 device -> 2 continues the run" $? "$(echo $(losses "$tmp/b/metrics.jsonl")) vs $(echo $ref)"

# ---- uneven and measured splits ----
expect "split 0.7" 0 "trained small for 6 steps" -- "${train[@]}" --max-steps 6 --devices 0,1 --split 0.7 --out "$tmp/s7"
close "$ref" "$(losses "$tmp/s7/metrics.jsonl")"
check "split 0.7 follows one device" $? "$(echo $(losses "$tmp/s7/metrics.jsonl")) vs $(echo $ref)"
expect "split auto" 0 "--split auto: a step of small at batch 5 took [0-9.]+ ms on device 0 and [0-9.]+ ms on device 1" -- \
  "${train[@]}" --max-steps 2 --devices 0,1 --split auto --out "$tmp/sa"

# ---- eval and infer on two devices ----
w=$tmp/one/weights.safetensors
expect "eval, one device" 0 "^centre crop on 8 images" -- "$bin" eval --weights "$w" --data "$tmp/data"
one_eval=$(grep '^centre crop' <<<"$out")
expect "eval, two devices" 0 "^centre crop on 8 images" -- "$bin" eval --weights "$w" --data "$tmp/data" --devices 0,1
[ "$(grep '^centre crop' <<<"$out")" = "$one_eval" ]
check "eval: two devices give one device's figures" $? "$one_eval / $(grep '^centre crop' <<<"$out")"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  /usr/bin/python3 -c "import numpy as np; np.save('$tmp/x.npy', np.random.RandomState(1).randn(7, 3, 23, 23).astype(np.float32))"
  expect "infer, one device" 0 "" -- "$bin" infer --weights "$w" --input "$tmp/x.npy" --output "$tmp/y1.npy" --batch 3
  expect "infer, two devices" 0 "" -- "$bin" infer --weights "$w" --input "$tmp/x.npy" --output "$tmp/y2.npy" --batch 3 --devices 0,1
  /usr/bin/python3 -c "import numpy as np; a=np.load('$tmp/y1.npy'); b=np.load('$tmp/y2.npy'); \
assert a.shape == (7, 4) and np.abs(a - b).max() <= 1e-5 * np.abs(a).max(), (a, b)"
  check "infer: two devices give one device's logits" $? "logits differ"
else
  echo "SKIP infer comparison: no numpy for /usr/bin/python3"
fi

finish
