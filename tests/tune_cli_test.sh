#!/usr/bin/env bash
# tune_cli_test.sh: `alexnet-cl tune` on the mini model with a small budget finishes, prints its table and
# writes the tuning table; the selftest then runs with that table (and passes); a corrupted table is ignored
# with a warning under -v, never trusted; wrong arguments are usage errors.
# With PATH/TO/test_net, the whole network against its host reference runs with that table too, once with the
# fully connected layers through CLBlast holding the table's Xgemm set.
# Usage: tune_cli_test.sh PATH/TO/alexnet-cl [PATH/TO/test_net]
set -u
bin=$1
test_net=${2:-}
tmp=$(mktemp -d)
. "$(dirname "$0")/testlib.sh"
trap 'rm -rf "$tmp"' EXIT
export ACL_CACHE_DIR="$tmp/cache"

expect "bad batch" 2 "--batch" -- "$bin" tune --batch 0
expect "bad model" 2 "model" -- "$bin" tune --model no-such-model
expect "unknown option" 2 "unknown argument" -- "$bin" tune --fast
expect "help" 0 "usage: alexnet-cl tune" -- "$bin" tune --help

if ! "$bin" devices >/dev/null 2>&1; then
  echo "no OpenCL device: skipping the device checks"
  exit 77
fi
expect "tune mini" 0 "tuning table written to" -- "$bin" tune --model mini --batch 8 --budget 3
table=$(ls "$ACL_CACHE_DIR"/tune-*.txt 2>/dev/null | head -n 1)
[ -n "$table" ] && grep -q "^checksum " "$table" && grep -q "^conv_px " "$table"
check "table written" $? "no tuning table in $ACL_CACHE_DIR"
expect "table has its rows" 0 "conv1 +conv_direct_forward.*speed|total" -- "$bin" tune --model mini --batch 8 --budget 0
# A non-default table (as a search could leave it), then the ops with it: still correct.
if [ -n "$table" ]; then
  sed -i 's/^conv_px .*/conv_px 4/; s/^conv_px_few .*/conv_px_few 5/; s/^conv_local .*/conv_local 16/' "$table"
  sed -i 's/^lrn_vec .*/lrn_vec 4/; s/^maxpool_vec .*/maxpool_vec 16/' "$table"
  xgemm="GEMMK=0 KREG=1 KWG=16 KWI=2 MDIMA=4 MDIMC=4 MWG=64 NDIMB=4 NDIMC=4 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=16 VWN=16"
  sed -i "s/^xgemm .*/xgemm $xgemm/" "$table"
  expect "edited table is corrupt" 0 "tuning table ignored.*corrupt" -- "$bin" selftest --tiny --op relu -v
  body=$(sed '/^checksum /d' "$table")
  sum=$(printf '%s\n' "$body" | python3 -c 'import sys
h=0xcbf29ce484222325
for b in sys.stdin.buffer.read(): h=((h^b)*0x100000001b3)&0xffffffffffffffff
print("%016x"%h)' 2>/dev/null)
  if [ -n "$sum" ]; then
    printf '%s\nchecksum %s\n' "$body" "$sum" >"$table"
    expect "selftest with the table" 0 "tuning table .*conv_px 4 conv_px_few 5 conv_local 16 lrn_vec 4 maxpool_vec 16" -- \
      "$bin" selftest --tiny -v
    expect "selftest passes with it" 0 "all checks passed" -- "$bin" selftest --tiny
    expect "ACL_TUNE=0 ignores it" 0 "all checks passed" -- env ACL_TUNE=0 "$bin" selftest --tiny --op lrn
    if [ -n "$test_net" ]; then
      expect "whole network with the table" 0 "PASSED" -- "$test_net"
      expect "whole network, fc through CLBlast with the Xgemm set" 0 "PASSED" -- env ACL_FC_PATH=gemm "$test_net"
    fi
  fi
fi

finish
