#!/usr/bin/env bash
# Bulk-seeds a benchmark fleet into a migrated certdeploy database.
#
#   bench/seed.sh CONNINFO COUNT [FIRST] [DUE]
#
# Adds COUNT devices numbered from FIRST (default 1), each with the three
# bench profiles, all deployments verified; DUE of them (default 0) are
# already due for renewal. See bench/seed.sql for what exactly is written
# (device i's token is cdd_bench_<i as 8 digits>). Prints the time taken.
set -euo pipefail
conn=${1:?usage: seed.sh CONNINFO COUNT [FIRST] [DUE]}
count=${2:?usage: seed.sh CONNINFO COUNT [FIRST] [DUE]}
first=${3:-1}
due=${4:-0}
here=$(cd "$(dirname "$0")" && pwd)
start=$(date +%s.%N)
psql "$conn" -qAtX -v ON_ERROR_STOP=1 -v first="$first" -v count="$count" -v due="$due" \
  -f "$here/seed.sql" >/dev/null
# The two status UPDATEs leave dead tuples behind: clean up and refresh the
# planner's statistics, as autovacuum would on a real fleet.
psql "$conn" -qAtX -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE devices' -c 'VACUUM ANALYZE deployments' \
  -c 'VACUUM ANALYZE deployment_counts' >/dev/null
end=$(date +%s.%N)
echo "seed: $count devices from #$first ($((count * 3)) deployments, $due due) in $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s" >&2
