#!/usr/bin/env bash
# bench_kernels_test.sh: bench_kernels times the layer shapes of the network that --shapes names (a preset or a
# description file) and gives every row a target and a verdict: the table's columns and the JSON's fields are
# there with positive numbers; a bad --shapes is a usage error.
# Usage: bench_kernels_test.sh PATH/TO/bench_kernels
set -u
bin=$1
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3

expect "bad shapes" 2 "--shapes takes paper, torchvision, mini or a network description file" -- \
  "$bin" --shapes nope --reps 1
grep -q "^bench_kernels: --shapes nope: cannot open" <<<"$out"
check "bad shapes: says why" $? "$out"
expect "help" 0 "--shapes paper\|torchvision\|mini\|FILE" -- "$bin" --help

# json_rows FILE KERNEL_PREFIX N: FILE is the bench's JSON with the peaks, and N rows of that kernel whose
# figures are positive and whose verdict agrees with pct and target.
json_rows() {
  "$py" - "$@" <<'PY'
import json, sys
path, prefix, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
o = json.load(open(path))
bad = [k for k in ("copy_gbs", "gemm_gflops", "arith_peak_gflops", "target_arith_pct", "target_memory_pct")
       if not (isinstance(o.get(k), (int, float)) and o[k] > 0)]
if not isinstance(o.get("host_sgemm_gflops"), (int, float)) or not o.get("arith_peak"):
    bad.append("host_sgemm_gflops/arith_peak")
rows = [r for r in o["results"] if r["kernel"].startswith(prefix)]
if len(rows) != want:
    bad.append("%d %s rows, not %d" % (len(rows), prefix, want))
for r in rows:
    # Rows too small for the copy peak are held against a copy of their own bytes, measured beside them.
    small = r["target_of"] == "copy_at_size"
    if not all(r[k] > 0 for k in ("median_ms", "gbs", "pct")) or r["target_of"] not in ("copy", "copy_at_size") \
            or r["target_pct"] != 60 or (small and not r.get("copy_at_size_gbs", 0) > 0) \
            or not r.get("copy_beside_gbs", 0) > 0:
        bad.append(r)
    # The others against the copy peak measured again beside them.
    elif abs(r["pct"] - 100 * r["gbs"] / (r["copy_at_size_gbs"] if small else r["copy_beside_gbs"])) \
            > 0.02 * r["pct"] + 0.01:
        bad.append(r)
    elif abs(r["pct_copy"] - 100 * r["gbs"] / r["copy_beside_gbs"]) > 0.02 * r["pct_copy"] + 0.01:
        bad.append(r)
    elif r["verdict"] != ("ok" if r["pct"] >= r["target_pct"] else "miss"):
        bad.append(r)
sys.exit("bad: %s" % bad if bad else 0)
PY
}

header="kernel +shape +median ms +min ms +GFLOP/s +GB/s +peak +%gemm +%copy +target +verdict"
expect "mini relu" 0 "$header" -- "$bin" --shapes mini --batch 3 --reps 1 --only relu --json "$tmp/mini.json"
# mini: relu after conv1, conv2, conv3/conv4 (one shape), conv5, fc6/fc7 (one shape): 5 shapes, both ways
grep -qE "^relu\.forward +conv3\.relu x2 N3 n=14112 .* [0-9]+% +60% copy\*? +(ok|MISS)$" <<<"$out"
check "mini relu: a row with its target and verdict" $? "$(grep relu.forward <<<"$out" | head -n 3)"
grep -q "^copy\*: a memory-bound row of at most 16 MiB" <<<"$out"
check "mini relu: what copy* means" $? "$(head -n 6 <<<"$out")"
grep -qE "host OpenBLAS ([0-9.]+ GFLOP/s on [0-9]+ threads|not measured)" <<<"$out"
check "mini relu: the host SGEMM peak" $? "$(grep -i peak <<<"$out")"
grep -qE "memory-bound .* target >= 60% of copy: [0-9]+ of 10 rows miss it" <<<"$out"
check "mini relu: the summary" $? "$(grep -A3 summary <<<"$out")"
json_rows "$tmp/mini.json" relu. 10
check "mini relu: the JSON" $? "$(head -c 600 "$tmp/mini.json")"

# The whole step of mini: its row has no target, and the summary gives each layer kind's share of the step.
expect "mini model" 0 "^model\.step +mini N3 .* n/a$" -- \
  "$bin" --shapes mini --batch 3 --reps 1 --only model --json "$tmp/model.json"
grep -qE "share of a training step by layer kind .* conv [0-9.]+%, .* rest " <<<"$out"
check "mini model: the shares" $? "$(tail -n 3 <<<"$out")"
"$py" -c 'import json, sys; s = json.load(open(sys.argv[1]))["step_share"]
sys.exit(0 if s["conv"] > 0 and s["fc"] > 0 and 0.5 < sum(s.values()) < 1.01 else s)' "$tmp/model.json"
check "mini model: step_share in the JSON" $? "$(tail -c 300 "$tmp/model.json")"

# The own SGEMM's products, three for each of mini's fc6, fc7 and fc8: each row carries OpenBLAS on the same
# product when the bench has OpenBLAS.
expect "mini sgemm" 0 "^sgemm\.tn +fc[0-9]+ weights m[0-9]+ n[0-9]+ k3 " -- \
  "$bin" --shapes mini --batch 3 --reps 1 --only sgemm --json "$tmp/sgemm.json"
# Each is held against the arithmetic peak measured again beside it.
"$py" -c 'import json, sys; o = json.load(open(sys.argv[1])); rows = o["results"]
host = o["host_sgemm_gflops"] > 0
bad = [r for r in rows if host != (r.get("host_gflops_at_shape", 0) > 0)]
bad += [r for r in rows if not r.get("arith_beside_gflops", 0) > 0 or r["target_of"] != "gemm"
        or abs(r["pct"] - 100 * r["gflops"] / r["arith_beside_gflops"]) > 0.02 * r["pct"] + 0.01
        or r["pct"] != r["pct_gemm"] or r["verdict"] != ("ok" if r["pct"] >= 50 else "miss")]
sys.exit(bad if bad or len(rows) != 9 else 0)' "$tmp/sgemm.json"
check "mini sgemm: OpenBLAS on each product, the peak beside each row" $? "$(head -c 900 "$tmp/sgemm.json")"

# The fully connected layers' rows carry OpenBLAS on their pass's products too: mini's fc6, fc7 and fc8, both ways.
expect "mini fc" 0 "^fc\.backward +fc8 N3 " -- "$bin" --shapes mini --batch 3 --reps 1 --only fc --json "$tmp/fc.json"
"$py" -c 'import json, sys; o = json.load(open(sys.argv[1])); rows = o["results"]
host = o["host_sgemm_gflops"] > 0
bad = [r for r in rows if host != (r.get("host_gflops_at_shape", 0) > 0) or not r.get("arith_beside_gflops", 0) > 0]
sys.exit(bad if bad or len(rows) != 6 else 0)' "$tmp/fc.json"
check "mini fc: OpenBLAS on each pass's products" $? "$(head -c 900 "$tmp/fc.json")"

# A description file: one conv and one relu on a 9x9 image; the relu row is labelled by its conv.
cat >"$tmp/tiny.net" <<'NET'
input channels=2 size=9
conv name=c1 out=16 kernel=3 pad=1
relu
fc name=out out=classes
NET
expect "description file" 0 "relu\.forward +c1\.relu N3 n=3888 " -- \
  "$bin" --shapes "$tmp/tiny.net" --batch 3 --reps 1 --only relu --json "$tmp/file.json"
json_rows "$tmp/file.json" relu. 2
check "description file: the JSON" $? "$(head -c 600 "$tmp/file.json")"
finish
