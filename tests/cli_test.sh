#!/usr/bin/env bash
# cli_test.sh: `alexnet-cl` as a user meets it: exit codes and one-line messages for wrong arguments, a
# missing platform and a device that does not exist; `devices` and a warm-cache `selftest`; a short `train`
# that leaves its report, and `report` remaking it.
# Usage: cli_test.sh PATH/TO/alexnet-cl
set -u
bin=$1
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT
export ACL_CACHE_DIR="$tmp/cache"

expect "no arguments" 2 "usage: alexnet-cl" -- "$bin"
expect "help" 0 "selftest" -- "$bin" --help
expect "unknown command" 2 "unknown command \"frobnicate\"" -- "$bin" frobnicate
expect "unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" selftest --bogus
expect "missing value" 2 "--device needs a value" -- "$bin" selftest --device
expect "train: unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" train --bogus
expect "train: bad number" 2 "--lr wants a number" -- "$bin" train --lr abc
expect "train: bad policy" 2 "--lr-policy is step or plateau" -- "$bin" train --lr-policy sometimes
expect "train: bad batch" 2 "--batch wants an integer from 1" -- "$bin" train --batch 0
expect "train: zero epochs" 2 "--epochs 0 trains nothing" -- "$bin" train --epochs 0
expect "train: missing dataset" 1 "$tmp/no-such-data" -- "$bin" train --data "$tmp/no-such-data" --out "$tmp/o"
expect "train: unwritable output" 1 "cannot write to output folder" -- "$bin" train --out /proc/acl-out
expect "train: unknown model" 2 "--model \"no-such-model\" is neither a preset" -- "$bin" train --model no-such-model --data fashion-mnist --out "$tmp/o"
expect "infer: missing arguments" 2 "--weights, --input and --output are all needed" -- "$bin" infer --model mini
expect "infer: missing weights" 1 "$tmp/none.safetensors" -- "$bin" infer --model mini --weights "$tmp/none.safetensors" --input x.npy --output y.npy
printf 'not a safetensors file' >"$tmp/bad.safetensors"
expect "infer: corrupt weights" 1 "bad.safetensors" -- "$bin" infer --model mini --weights "$tmp/bad.safetensors" --input x.npy --output y.npy
expect "model: layers" 0 "conv2 +conv +256x27x27 +conv2.weight \[256,48,5,5\]" -- "$bin" model --model paper
expect "model: two devices" 0 "conv2 +\[0, 128\) +\[128, 256\) +its own device.*354624 bytes per image forward" -- sh -c "'$bin' model --model paper --split 0.5 | tr '\n' ' '"
expect "model: bad split" 2 "--split 2: wants device 0's share" -- "$bin" model --split 2
expect "model: description" 0 "^input name=mini" -- "$bin" model --model mini --description
expect "model: bad description" 1 "bad.net:1: unknown layer kind" -- sh -c "printf 'pool size=2\n' >'$tmp/bad.net'; '$bin' model --model '$tmp/bad.net'"
expect "report: no run there" 1 "has no metrics.jsonl" -- "$bin" report --out "$tmp/no-run"
mkdir -p "$tmp/badrun" && printf '{"step": 1, "epoch": 0, "loss": 2, "lr": 0.1}\n{"step": 2,\n' >"$tmp/badrun/metrics.jsonl"
expect "report: bad metrics line" 1 "badrun/metrics.jsonl line 2: " -- "$bin" report --out "$tmp/badrun"
mkdir -p "$tmp/empty-vendors"
expect "no platform" 1 "no OpenCL platform found" -- env OCL_ICD_VENDORS="$tmp/empty-vendors" "$bin" devices
expect "no platform, selftest" 1 "no OpenCL platform found" -- env OCL_ICD_VENDORS="$tmp/empty-vendors" "$bin" selftest

if "$bin" devices >/dev/null 2>&1; then
  expect "devices" 0 "index +name +type" -- "$bin" devices
  expect "device out of range" 2 "--device: device 999 does not exist" -- "$bin" selftest --device 999
  expect "device name not found" 2 "no device name contains \"no-such-gpu\"" -- "$bin" selftest --device no-such-gpu
  expect "unknown op" 1 "no op name starts with" -- "$bin" selftest --op nosuchop
  expect "selftest cold" 0 "all checks passed" -- "$bin" selftest --op relu --tiny -v
  expect "selftest warm hits the cache" 0 "[0-9]+ programs, ([1-9][0-9]*) from cache" -- "$bin" selftest --op relu --tiny -v
  if [ -d /usr/share/datasets/fashion-mnist ]; then
    expect "train: a short run" 0 "report.html, conv1_filters.png" -- "$bin" train --max-steps 2 --batch 8 --out "$tmp/run"
    expect "train: report left in --out" 0 "conv1_filters" -- sh -c "test -s '$tmp/run/conv1_filters.png' && grep -c '<polyline class=\"loss-raw\"' '$tmp/run/report.html' && ls '$tmp/run'"
    rm -f "$tmp/run/report.html" "$tmp/run/conv1_filters.png"
    expect "report: remade from the folder" 0 "wrote .*report.html and conv1_filters.png" -- sh -c "'$bin' report --out '$tmp/run' && test -s '$tmp/run/report.html' && test -s '$tmp/run/conv1_filters.png'"
  else
    echo "SKIP train/report check: no /usr/share/datasets/fashion-mnist"
  fi
else
  echo "SKIP device checks: no OpenCL device"
fi

finish
