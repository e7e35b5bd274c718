#!/usr/bin/env bash
# eval_cli_test.sh: `alexnet-cl eval` and `classify` as a user meets them: a short training run on a generated image
# folder, then eval on the centre crop (the same top-1 as train reported) and on ten crops, classify on the same
# images (its top-1 answers agree with eval's), names from the weights or a labels file, a bad image among good ones,
# and wrong arguments (a usage message naming the argument, exit 2).
# Usage: eval_cli_test.sh PATH/TO/alexnet-cl PATH/TO/make_images
set -u
bin=$1 make_images=$2
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT

w=$tmp/out/weights.safetensors
# ---- wrong arguments: no device needed ----
expect "eval: no weights" 2 "--weights FILE is needed" -- "$bin" eval --data "$tmp/data"
expect "eval: no data" 2 "--data DIR\|fashion-mnist is needed" -- "$bin" eval --weights "$w"
expect "eval: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" eval --weights "$w" --data x --bogus
expect "eval: bad batch" 2 "--batch wants an integer from 1" -- "$bin" eval --weights "$w" --data x --batch 0
expect "eval: missing value" 2 "--mean needs a value" -- "$bin" eval --weights "$w" --data x --mean
expect "eval: help" 0 "--ten-crop" -- "$bin" eval --help
expect "classify: no weights" 2 "--weights FILE is needed" -- "$bin" classify a.png
expect "classify: no images" 2 "no images given" -- "$bin" classify --weights "$w"
expect "classify: unknown option" 2 "unknown argument \"--top\"" -- "$bin" classify --weights "$w" --top 3 a.png
expect "classify: missing value" 2 "--labels needs a value" -- "$bin" classify --weights "$w" a.png --labels
expect "eval: missing weights file" 1 "$tmp/none.safetensors" -- "$bin" eval --weights "$tmp/none.safetensors" --data x
printf 'not a safetensors file' >"$tmp/bad.safetensors"
expect "classify: corrupt weights" 1 "bad.safetensors" -- "$bin" classify --weights "$tmp/bad.safetensors" a.png

if ! "$bin" devices >/dev/null 2>&1; then
  echo "SKIP device checks: no OpenCL device"
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
  exit
fi

# ---- a short training run on six classes of small RGB images (PNG and JPEG, of varied sizes) ----
classes=(ant bee cat dog eel fox)
"$make_images" "$tmp/data/train" 6 1 "${classes[@]}" && "$make_images" "$tmp/data/val" 3 2 "${classes[@]}" ||
  { echo "FAIL: make_images"; exit 1; }
cat >"$tmp/tiny.net" <<'EOF'
input name=tiny channels=3 height=32 width=32
conv name=conv1 out=8 kernel=5 stride=2 pad=0
relu
maxpool size=3 stride=2
fc name=fc8 out=classes
EOF
expect "train" 0 "validation: top-1" -- "$bin" train --model "$tmp/tiny.net" --data "$tmp/data" --max-steps 10 \
  --batch 8 --lr 0.0001 --out "$tmp/out"
train_top1=$(sed -n 's/^validation: top-1 \([0-9.]*\)%.*/\1/p' <<<"$out")
mv "$tmp/out/mean.npy" "$tmp/mean.npy" # eval and classify must work from the weights file alone

# ---- eval: the centre crop gives what train reported on the same validation images ----
line='^centre crop on 18 images of [^ ]*/data/val: top-1 [0-9.]+%, top-5 [0-9.]+%, loss [0-9.]+$'
expect "eval: centre crop" 0 "$line" -- "$bin" eval --weights "$w" --data "$tmp/data"
eval_top1=$(sed -n 's/^centre crop on .* top-1 \([0-9.]*\)%.*/\1/p' <<<"$out")
centre_line=$(grep '^centre crop' <<<"$out")
[ -n "$train_top1" ] && [ "$train_top1" = "$eval_top1" ]
check "eval: top-1 as train reported" $? "train said ${train_top1:-nothing}%, eval ${eval_top1:-nothing}%"
expect "eval: the same with --model and --mean" 0 "$line" -- "$bin" eval --weights "$w" --data "$tmp/data" \
  --model "$tmp/tiny.net" --mean "$tmp/mean.npy" --batch 7
[ "$(grep '^centre crop' <<<"$out")" = "$centre_line" ]
check "eval: --model, --mean, --batch change nothing" $? "$out / $centre_line"
expect "eval: ten crops" 0 "^ten crops${line#^centre crop}" -- \
  "$bin" eval --weights "$w" --data "$tmp/data" --ten-crop --batch 4
expect "eval: class folders differ" 1 "class 0 of .* is \"ape\" but .* was trained with \"ant\"" -- sh -c \
  "'$make_images' '$tmp/other' 1 3 ape bee cat dog eel fox && '$bin' eval --weights '$w' --data '$tmp/other'"
expect "eval: a dataset of another class count" 1 "fashion-mnist.* has 10 classes but the model in .* has 6" -- \
  "$bin" eval --weights "$w" --data fashion-mnist

# ---- classify: five classes with probabilities, names from the weights; top-1 answers agree with eval ----
expect "classify" 0 "^$tmp/data/val/ant/000.png$" -- "$bin" classify --weights "$w" "$tmp"/data/val/*/*
awk '
  /^ / { p = $1; if (p !~ /^[0-9]+\.[0-9][0-9]%$/) bad = 1; sub(/%/, "", p); p += 0
         if (k > 0 && p > last + 0.005) bad = 1; last = p; sum += p; k++; next }
  { if (images > 0 && (k != 5 || sum > 100.05)) bad = 1; k = 0; sum = 0; images++ }
  END { if (k != 5 || sum > 100.05 || images != 18) bad = 1; exit bad }' <<<"$out"
check "classify: 18 blocks of 5 decreasing percentages summing to at most 100" $? "$(head -n 12 <<<"$out")"
right=$(awk '!/^ / { split($0, part, "/"); truth = part[length(part) - 1]; first = 1; next }
             first { if ($2 == truth) right++; first = 0 } END { print right + 0 }' <<<"$out")
[ -n "$eval_top1" ] && awk -v r="$right" -v t="$eval_top1" 'BEGIN { exit !(sprintf("%.2f", 100 * r / 18) == t) }'
check "classify: top-1 answers agree with eval" $? "$right of 18 right, eval said $eval_top1%"

printf '0 a-n-t\n1 b-e-e\n2 c-a-t\n3 d-o-g\n4 e-e-l\n5 f-o-x\n' >"$tmp/labels.txt"
expect "classify: --labels" 0 "^ +[0-9.]+%  [a-f]-[a-z]-[a-z]$" -- "$bin" classify --weights "$w" \
  --labels "$tmp/labels.txt" "$tmp/data/val/bee/000.png"
printf 'a\nb\n' >"$tmp/short.txt"
expect "classify: labels of another class count" 1 "short.txt names 2 classes but the model has 6" -- \
  "$bin" classify --weights "$w" --labels "$tmp/short.txt" "$tmp/data/val/bee/000.png"
printf 'not an image' >"$tmp/broken.png"
expect "classify: a bad image among good ones" 1 "skipping $tmp/broken.png" -- \
  "$bin" classify --weights "$w" "$tmp/broken.png" "$tmp/data/val/cat/001.png" "$tmp/none.jpg"
grep -q "^$tmp/data/val/cat/001.png$" <<<"$out" && grep -q "none.jpg" <<<"$out" && grep -q "2 of 3 images" <<<"$out"
check "classify: the good image still classified, both bad ones named" $? "$out"

finish
