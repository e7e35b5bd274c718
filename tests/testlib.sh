# testlib.sh: what the shell tests share: counting passes and failures, running a command against its expected
# exit code and output, and the summary. Sourced: . "$(dirname "$0")/testlib.sh"
pass=0 fail=0
out=
ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL $*"
}

# expect NAME EXIT_CODE PATTERN -- command...: the command exits with EXIT_CODE and its output (stdout and
# stderr) matches PATTERN, an extended regex. The output is kept in $out for further checks.
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -qE -- "$pattern" <<<"$out"; then
    ok
  else
    bad "$name: exit $rc (wanted $code and /$pattern/), output:"
    sed 's/^/    /' <<<"$out" | head -n 20
  fi
}

# check NAME STATUS MESSAGE: a pass when STATUS (a command's $?) is 0, else a failure saying MESSAGE.
check() { if [ "$2" -eq 0 ]; then ok; else bad "$1: $3"; fi; }

# finish: the summary line; the exit status is 0 only without failures (the script's last command).
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
