#!/usr/bin/env bash
# Runs every test layer and closes with one "N passed, N failed" line.
#
#   tests/run.sh                  everything (what `make test` and CI run)
#   tests/run.sh unit api ...     only these layers
#
# Layers: check (scripts/check.sh: clang-format, the banned functions of
# scripts/banned.txt, the gcc and clang builds, eslint; one test per check),
# unit (cmocka, no DB), db (cmocka on the throwaway cluster),
# integration (C against the real mock CA), fuzz (each libFuzzer harness of
# tests/fuzz/ for FUZZ_SECONDS, default 10, from its seeds; one test per
# target), api (node: real server over
# TLS, mock CA, agent), browser (the dashboard in Debian's Chromium through
# playwright-core, against the same real stack), and the same
# unit/integration/db/api layers again on the ASan+UBSan build (unit-san,
# integration-san, db-san, api-san), and valgrind (every API test file
# that valgrind_excluded does not name, with certdeployd under memcheck: no
# error, no definite or indirect leak).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(check unit db integration fuzz api browser unit-san integration-san db-san api-san valgrind)

want_san=0
for l in "${layers[@]}"; do case "$l" in *-san) want_san=1 ;; esac; done

echo "== build" >&2
make -s -j"$JOBS" DEVELOPER=1 all tests >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
if [ $want_san -eq 1 ]; then
  make -s -j"$JOBS" DEVELOPER=1 SANITIZE=1 all tests >/dev/null || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

WORK=$(mktemp -d /tmp/certdeploy-test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  bash scripts/pg.sh stop "$WORK/pg" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

need_pg=0
for l in "${layers[@]}"; do case "$l" in db|db-san|api|api-san|browser|valgrind) need_pg=1 ;; esac; done
if [ $need_pg -eq 1 ]; then
  echo "== throwaway PostgreSQL cluster" >&2
  CONNINFO=$(PG_FAST=1 bash scripts/pg.sh start "$WORK/pg" postgres) || { echo "0 passed, 1 failed"; exit 1; }
  export CERTDEPLOY_TEST_PG="$CONNINFO"
fi

passed=0
failed=0
failures=()

# Runs one cmocka binary and adds its counts.
run_cmocka() {
  local bin=$1 label=$2 log="$WORK/$(basename "$1").$2.log"
  local extra_env=()
  if [ "$label" = db ] || [ "$label" = db-san ]; then
    local dbname="t_$(basename "$bin" | tr -c 'a-z0-9\n' '_')_$RANDOM"
    psql "$CERTDEPLOY_TEST_PG" -qAtXc "CREATE DATABASE $dbname" >/dev/null
    extra_env=("CERTDEPLOY_TEST_DATABASE_URL=${CERTDEPLOY_TEST_PG/dbname=postgres/dbname=$dbname}")
  fi
  env "${extra_env[@]}" CERTDEPLOY_BUILD="$3" timeout 300 "$bin" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-8s %-40s %3d passed, %d failed\n' "$label" "$(basename "$bin")" "$p" "$f"
  if [ "$f" -ne 0 ]; then
    failures+=("$label $(basename "$bin")")
    sed 's/^/    /' "$log" | tail -40
  fi
}

# Runs the node test files of one directory (default tests/api) and adds their counts.
run_node() {
  local build=$1 label=$2 dir=${3:-tests/api} log="$WORK/node.$2.log"
  local files=("$dir"/*.test.mjs)
  [ -e "${files[0]}" ] || return 0
  # two files at a time: most of a test's time is spent waiting on the
  # server, the worker and the mock CA, not on the CPU
  CERTDEPLOY_BUILD="$build" timeout 900 node --test --test-concurrency="${NODE_TEST_CONCURRENCY:-2}" \
    --test-reporter=spec "${files[@]}" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{print $NF}' | tail -1)
  f=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{print $NF}' | tail -1)
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-8s %-40s %3d passed, %d failed\n' "$label" "node --test $dir" "$p" "$f"
  if [ "$f" -ne 0 ]; then
    failures+=("$label node")
    grep -E -B2 -A30 '^✖|not ok|Error|AssertionError' "$log" | head -150 | sed 's/^/    /'
  fi
}

# Counts one test of layer $1 named $2 that passed when $3 is 0, else
# failed; a failure's log comes on stdin and is shown indented. Call it
# with a redirection, not at the end of a pipe: in a pipe's subshell its
# counts would be lost.
count_one() {
  local layer=$1 name=$2 rc=$3
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    printf '%-8s %-40s %3d passed, %d failed\n' "$layer" "$name" 1 0
    cat >/dev/null
  else
    failed=$((failed + 1))
    failures+=("$layer $name")
    printf '%-8s %-40s %3d passed, %d failed\n' "$layer" "$name" 0 1
    sed 's/^/    /'
  fi
}

# Runs each check of scripts/check.sh; each counts as one test.
run_check() {
  local c log rc
  for c in $(bash scripts/check.sh --list); do
    log="$WORK/check.$c.log"
    bash scripts/check.sh "$c" >"$log" 2>&1
    rc=$?
    count_one check "$c" "$rc" < <(head -60 "$log")
  done
}

# Builds the fuzz harnesses, then runs each for a short bounded time on a
# copy of its seeds under $WORK (the repository's corpus is never written);
# each target counts as one test.
run_fuzz() {
  local log="$WORK/fuzz-build.log" t rc
  if ! bash tests/fuzz/run.sh --build >"$log" 2>&1; then
    failed=$((failed + 1))
    failures+=("fuzz build")
    printf '%-8s %-40s %3d passed, %d failed\n' fuzz "tests/fuzz/run.sh --build" 0 1
    sed 's/^/    /' "$log" | tail -40
    return
  fi
  for t in $(bash tests/fuzz/run.sh --list); do
    log="$WORK/fuzz.$t.log"
    FUZZ_SECONDS="${FUZZ_SECONDS:-4}" FUZZ_WORK="$WORK/fuzz" FUZZ_RSS_MB=1024 \
      bash tests/fuzz/run.sh "$t" >"$log" 2>&1
    rc=$?
    count_one fuzz "$t" "$rc" < <(grep -v '^fuzz: building' "$log" | head -60)
  done
}

# Runs the API tests with every certdeployd under valgrind memcheck, three
# node processes at once (the longest first). Each server must exit 0
# (error-exitcode 99), and its valgrind log must show 0 errors and 0 bytes
# definitely or indirectly lost. An RSA key made under memcheck takes 10-40 s,
# so every database a test creates starts with 16 keys (sticky_random: 64) in
# its key pool, made natively by the test process and sealed under the
# server's master key (CERTDEPLOY_TEST_SEED_KEYS, tests/api/lib/server.mjs);
# the server takes them through its own code.
#
# Every tests/api/*.test.mjs runs here unless valgrind_excluded names it with
# the reason; a new test file is memory-checked without being listed.
# "timing": 1-3 s CA timeouts and leases, kill -9, SIGSTOP and storms
# measure time, which memcheck's 20-50x slowdown breaks. "no certdeployd":
# nothing to check. "not wrapped": it starts certdeployd itself, not through
# tests/api/lib/server.mjs and its CERTDEPLOY_SERVER_WRAPPER.
declare -A valgrind_excluded=(
  [ca_faults]="timing: 1-3 s CA timeouts and Retry-After against leases"
  [process_faults]="timing: kill -9 and SIGSTOP against leases and deadlines"
  [multi_instance]="timing: leases and claim storms between instances"
  [pg_restart]="timing: PostgreSQL restarts against reconnect deadlines"
  [mockca]="no certdeployd"
  [install]="no certdeployd: make install into a staging root, systemd-analyze"
  [manpages]="no certdeployd: the man pages and --help"
  [readme]="not wrapped: starts certdeployd through scripts/run.sh"
)
# Files with arguments of their own (NAME=value environment words, then
# node's arguments): sticky_random runs 150 events instead of 2000, and
# bad_input all but its two categories of near-1-MiB bodies (90 s of CPU
# under memcheck; the 413 path is still covered by the api-san layer).
declare -A valgrind_special=(
  [bad_input]="--test-name-pattern=^(?!empty.and.over-long|bodies.over.1.MiB)"
  [sticky_random]="CERTDEPLOY_RANDOM_EVENTS=150 CERTDEPLOY_TEST_SEED_KEYS=64"
)
# The long files, longest first, each in a node process of its own; every
# other file goes three to a process (--test-concurrency=3) after them.
valgrind_long=(bad_input sticky_random security webhook state_rows lifecycle openapi metrics)

run_valgrind() {
  local vdir="$WORK/valgrind" started=$SECONDS p=0 f=0 i name file
  if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed"; failed=$((failed + 1)); failures+=("valgrind missing"); return
  fi
  mkdir -p "$vdir"
  local wrapper="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect"
  wrapper+=" --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 --log-file=$vdir/vg.%p.log"
  # a name in the lists above without its file is a stale entry: say so
  local stale=()
  for name in "${!valgrind_excluded[@]}" "${!valgrind_special[@]}" "${valgrind_long[@]}"; do
    [ -e "tests/api/$name.test.mjs" ] || stale+=("$name")
  done
  # each run: NAME=value environment words, then node's arguments
  local runs=() group=() nfiles=0
  for name in "${valgrind_long[@]}"; do
    file="tests/api/$name.test.mjs"
    [ -e "$file" ] && [ -z "${valgrind_excluded[$name]+x}" ] || continue
    runs+=("${valgrind_special[$name]:-} $file")
    nfiles=$((nfiles + 1))
  done
  for file in tests/api/*.test.mjs; do
    name=$(basename "$file" .test.mjs)
    [ -n "${valgrind_excluded[$name]+x}" ] && continue
    case " ${valgrind_long[*]} " in *" $name "*) continue ;; esac
    nfiles=$((nfiles + 1))
    if [ -n "${valgrind_special[$name]+x}" ]; then
      runs+=("${valgrind_special[$name]} $file")
      continue
    fi
    group+=("$file")
    if [ ${#group[@]} -eq 3 ]; then
      runs+=("--test-concurrency=3 ${group[*]}")
      group=()
    fi
  done
  [ ${#group[@]} -gt 0 ] && runs+=("--test-concurrency=3 ${group[*]}")
  for i in "${!runs[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge 3 ]; do wait -n; done
    local envs=() args=() w
    # shellcheck disable=SC2086 # the run's words
    for w in ${runs[$i]}; do
      if [[ $w =~ ^[A-Z_]+= ]]; then envs+=("$w"); else args+=("$w"); fi
    done
    env CERTDEPLOY_BUILD=build CERTDEPLOY_SERVER_WRAPPER="$wrapper" CERTDEPLOY_TEST_SEED_KEYS=16 "${envs[@]}" \
      timeout 600 node --test --test-reporter=spec "${args[@]}" >"$WORK/node.valgrind.$i.log" 2>&1 &
  done
  wait
  for i in "${!runs[@]}"; do
    local log="$WORK/node.valgrind.$i.log" rp rf
    rp=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{print $NF}' | tail -1)
    rf=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{print $NF}' | tail -1)
    rp=${rp:-0}
    rf=${rf:-0}
    if [ "$rf" -eq 0 ] && ! grep -q '^ℹ fail 0' "$log"; then rf=1; fi
    p=$((p + rp))
    f=$((f + rf))
    if [ "$rf" -ne 0 ]; then
      grep -E -B2 -A30 '^✖|not ok|Error|AssertionError' "$log" | head -100 | sed 's/^/    /'
    fi
  done
  local logs errors definite indirect unfinished
  logs=$(find "$vdir" -name 'vg.*.log' | wc -l)
  errors=$(cat "$vdir"/vg.*.log 2>/dev/null | grep -Eo 'ERROR SUMMARY: [0-9,]+' | tr -d , | awk '{s+=$NF} END {print s+0}')
  definite=$(cat "$vdir"/vg.*.log 2>/dev/null | grep -Eo 'definitely lost: [0-9,]+' | tr -d , | awk '{s+=$NF} END {print s+0}')
  indirect=$(cat "$vdir"/vg.*.log 2>/dev/null | grep -Eo 'indirectly lost: [0-9,]+' | tr -d , | awk '{s+=$NF} END {print s+0}')
  unfinished=$(grep -L 'ERROR SUMMARY' "$vdir"/vg.*.log 2>/dev/null | wc -l)
  echo "valgrind: $nfiles test files, $logs servers under memcheck: $errors errors, $definite bytes definitely and $indirect indirectly lost, $unfinished without a summary ($((SECONDS - started)) s)"
  if [ ${#stale[@]} -gt 0 ]; then
    f=$((f + 1))
    echo "    valgrind: no tests/api file for ${stale[*]}: remove them from valgrind_excluded, valgrind_special or valgrind_long in tests/run.sh"
  fi
  if [ "$logs" -eq 0 ] || [ "$errors" -ne 0 ] || [ "$definite" -ne 0 ] || [ "$indirect" -ne 0 ] || [ "$unfinished" -ne 0 ]; then
    f=$((f + 1))
    grep -l -E 'ERROR SUMMARY: [1-9]|(definitely|indirectly) lost: [1-9]' "$vdir"/vg.*.log 2>/dev/null | head -3 | xargs -r tail -n 60 | sed 's/^/    /'
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-8s %-40s %3d passed, %d failed\n' valgrind "node --test, certdeployd under memcheck" "$p" "$f"
  [ "$f" -ne 0 ] && failures+=("valgrind")
}

for layer in "${layers[@]}"; do
  layer_started=$SECONDS
  case "$layer" in
  unit | integration | db)
    for bin in build/tests/$layer/test_*; do
      [ -x "$bin" ] && run_cmocka "$bin" "$layer" build
    done
    ;;
  unit-san | integration-san | db-san)
    base=${layer%-san}
    for bin in build/sanitize/tests/$base/test_*; do
      [ -x "$bin" ] && run_cmocka "$bin" "$layer" build/sanitize
    done
    ;;
  check) run_check ;;
  fuzz) run_fuzz ;;
  api) run_node build api ;;
  api-san) NODE_TEST_CONCURRENCY=1 run_node build/sanitize api-san ;;
  browser) run_node build browser tests/browser ;;
  valgrind) run_valgrind ;;
  *) echo "unknown layer $layer" >&2; failed=$((failed + 1)) ;;
  esac
  echo "== $layer: $((SECONDS - layer_started)) s" >&2
done

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
