#!/usr/bin/env bash
# torch_golden_test.sh: `alexnet-cl infer` against PyTorch on the same weights and input, for the mini and
# paper and torchvision presets: PyTorch (scripts/torch_reference.py) initializes the network, writes its state dict
# as safetensors, a random batch and its logits (paper: LRN with alpha/n and groups of two); the engine must reproduce the logits.
# Usage: torch_golden_test.sh PATH/TO/alexnet-cl SOURCE_DIR. Skips (exit 77) without python3-torch.
set -eu
bin=$1 src=$2
py=/usr/bin/python3
if ! "$py" -c "import torch, numpy" 2>/dev/null; then
  echo "SKIP: python3-torch and python3-numpy are not installed"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for spec in "mini 10 4" "paper 1000 1" "torchvision 1000 2"; do
  set -- $spec
  model=$1 classes=$2 batch=$3
  "$bin" model --model "$model" --description >"$tmp/$model.net"
  "$py" "$src/scripts/torch_reference.py" --description "$tmp/$model.net" --classes "$classes" --batch "$batch" \
    --seed 3 --weights-out "$tmp/w.safetensors" --input-out "$tmp/x.npy" --logits-out "$tmp/torch.npy"
  "$bin" infer --model "$model" --weights "$tmp/w.safetensors" --input "$tmp/x.npy" --output "$tmp/engine.npy"
  if "$py" - "$tmp/torch.npy" "$tmp/engine.npy" "$model" <<'PY'
import sys
import numpy as np
ref, got = np.load(sys.argv[1]), np.load(sys.argv[2])
assert ref.shape == got.shape, (ref.shape, got.shape)
err = float(np.max(np.abs(ref - got)))
bound = 1e-4 * float(np.max(np.abs(ref))) + 1e-6
print(f"{sys.argv[3]}: logits {ref.shape}, max |engine - PyTorch| {err:.3g} (bound {bound:.3g})")
sys.exit(0 if np.all(np.isfinite(got)) and err <= bound else 1)
PY
  then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $model"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
