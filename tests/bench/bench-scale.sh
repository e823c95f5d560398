#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-scale.sh BENCH-SERVER: the figures of docs/SCALE.md on PostgreSQL (./dev bench
# server-scale). Push and feed rates with an empty table and beside KH_BENCH_SCALE_RECORDS
# records of another province (one size or several, "1000000 10000000"; 1,000,000 unless set),
# in the same run so that their ratios compare, then 200 clients per serve process for one, two
# and three processes on one database.
set -eu
bench=$1
sizes=${KH_BENCH_SCALE_RECORDS:-1000000}
seconds=${KH_BENCH_SCALE_SECONDS:-30}
"$bench" --backend=postgresql --records=20000 --clients=200 --seconds=10
# A size may fail (at 10,000,000 the feed's first page outlasts the statement timeout,
# docs/SCALE.md): the others still run, and the run fails at the end.
failed=
for n in $sizes; do
  "$bench" --backend=postgresql --records=20000 --clients=200 --seconds=10 --prefill="$n" \
    || { echo "bench-scale: --prefill=$n failed"; failed="$failed $n"; }
done
for k in 1 2 3; do
  "$bench" --backend=postgresql --records=2000 --clients=200 --seconds="$seconds" --servers=$k
done
[ -z "$failed" ]
