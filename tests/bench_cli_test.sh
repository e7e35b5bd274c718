#!/usr/bin/env bash
# bench_cli_test.sh: `alexnet-cl bench`: its refusals, and its JSON line (the last line of stdout) with every
# figure present and plausible, on one device with a cold start and on two PoCL devices against one.
# Usage: bench_cli_test.sh PATH/TO/alexnet-cl
set -u
bin=$1
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3

expect "unknown option" 2 "unknown argument \"--bogus\"" -- "$bin" bench --bogus
expect "bad steps" 2 "--steps wants an integer from 1" -- "$bin" bench --steps 0
expect "bad model" 2 "--model \"nope\" is neither a preset" -- "$bin" bench --model nope
expect "split without devices" 2 "--split 0.5 needs two devices" -- "$bin" bench --split 0.5 --no-cold
expect "help" 0 "--no-cold" -- "$bin" bench --help

if ! "$bin" devices >/dev/null 2>&1; then
  echo "SKIP timing checks: no OpenCL device"
  finish
  exit
fi

# json_has KEYS...: the last line of $out is a JSON object whose KEYS are positive numbers.
json_has() {
  tail -n 1 <<<"$out" | "$py" -c '
import json, sys
o = json.loads(sys.stdin.read())
bad = [k for k in sys.argv[1:] if not (isinstance(o.get(k), (int, float)) and o[k] > 0)]
sys.exit("not positive numbers: %s in %s" % (bad, o) if bad else 0)' "$@"
}

expect "one device, cold and warm" 0 "cold start .* programs built" -- "$bin" bench --model mini --batch 3 --steps 2 --json
json_has train_images_per_s infer_images_per_s peak_device_bytes peak_host_bytes cold_start_s warm_start_s \
  cold_first_step_s warm_first_step_s
check "one device: the JSON figures" $? "$(tail -n 1 <<<"$out")"
n_devices=$("$bin" devices 2>/dev/null | grep -cE '^ *[0-9]+ ')
if [ "$(POCL_DEVICES="pthread pthread" "$bin" devices 2>/dev/null | grep -cE '^ *[0-9]+ ')" -ge 2 ]; then
  expect "two devices" 0 "device A alone .* two devices are [0-9.]+x" -- \
    env POCL_DEVICES="pthread pthread" "$bin" bench --model mini --batch 5 --steps 2 --devices 0,1 --no-cold --json
  json_has train_images_per_s one_device_train_images_per_s one_device_infer_images_per_s moved_bytes_per_step
  check "two devices: the JSON figures" $? "$(tail -n 1 <<<"$out")"
  # mini moves 47,744 bytes per image each way (tests/test_placement.c): 2 x 5 x 47744 per step
  tail -n 1 <<<"$out" | grep -q '"moved_bytes_per_step": 477440'
  check "two devices: the bytes a step moves" $? "$(tail -n 1 <<<"$out")"
else
  echo "SKIP two devices: PoCL does not give two (n_devices=$n_devices)"
fi
finish
