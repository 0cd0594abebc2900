#!/usr/bin/env bash
# prof.sh BIN NAME RATE: perf profile of a fresh pitd under pit-bench errors at RATE
set -e
BIN=$1; NAME=$2; RATE=${3:-3000}; PORT=18610
W=$(mktemp -d); cd $W
$BIN init --json > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':$PORT/'))")
$BIN serve --bind 127.0.0.1:$PORT > pitd.log 2>&1 &
PID=$!
sleep 1.5
/work/main/.build/release/pit-bench --dsn "$DSN" --rate $RATE --duration 20s --no-record --quiet > bench.txt 2>&1 &
sleep 4
perf record -q -F 1999 -g -p $PID -o /tmp/prof/$NAME.data -- sleep 12 2>/dev/null
wait %2 || true
kill $PID; wait $PID 2>/dev/null || true
cd /tmp/prof && rm -rf $W
perf script -i /tmp/prof/$NAME.data -F comm,tid,ip,sym --no-demangle 2>/dev/null > /tmp/prof/$NAME.txt
