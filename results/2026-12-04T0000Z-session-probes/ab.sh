#!/usr/bin/env bash
# ab.sh ROUNDS RATE SECS name... : alternated scripts/.cpe-tmp (a copy of this folder's cpu-per-event-with-payload.sh) on .build/ab/pitd-<name>
ROUNDS=$1; RATE=$2; SECS=$3; shift 3
cd /work/main
for r in $(seq 1 $ROUNDS); do
  for n in "$@"; do
    out=$(PORT=18520 RECORD=${RECORD:-} scripts/bench-cpu-per-event-with-payload (this folder's cpu-per-event-with-payload.sh, copied into scripts/ to run) .build/ab/pitd-$n $RATE $SECS 2>&1)
    loops=$(echo "$out" | awk '/event loops/ {print $(NF-1)}'); wr=$(echo "$out" | awk '/default-qos/ {print $(NF-1)}'); tot=$(echo "$out" | awk '/  total/ {print $(NF-1)}')
    p99=$(echo "$out" | grep -o "p99 [0-9.]* ms" | head -1)
    echo "$(date +%T) r$r $n loops=$loops writer=$wr total=$tot $p99"
  done
done
