#!/usr/bin/env bash
# usage: profile.sh PITD RATE SECONDS OUT
set -e
PITD=$1; RATE=$2; SECS=$3; OUT=$4
W=$(mktemp -d); cd $W
$PITD init --json > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':18600/'))")
$PITD serve --bind 127.0.0.1:18600 > pitd.log 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18600/health && break; sleep 0.1; done
/work/main/.build/release/pit-bench --dsn "$DSN" --rate $RATE --duration $((SECS+4))s --no-record --quiet > bench.txt 2>&1 &
B=$!
sleep 2
perf record -F 1999 -g -p $PID -o $OUT -- sleep $SECS 2>/dev/null
wait $B || true
tail -5 bench.txt
kill $PID; wait $PID 2>/dev/null || true
rm -rf $W
