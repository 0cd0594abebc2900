#!/usr/bin/env bash
# prof.sh BIN NAME: perf profile of pitd's event loops at 3,000/s; prints JSONTape.parse's share
set -e
BIN=$1; NAME=$2; PORT=18610
W=$(mktemp -d); cd $W
$BIN init --json > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':$PORT/'))")
$BIN serve --bind 127.0.0.1:$PORT > pitd.log 2>&1 &
PID=$!
sleep 1.5
/work/main/.build/release/pit-bench --dsn "$DSN" --rate 3000 --duration 20s --no-record --quiet > bench.txt 2>&1 &
sleep 4
perf record -q -F 1999 -g -p $PID -o /tmp/swar/$NAME.data -- sleep 12 2>/dev/null
wait %2 || true
kill $PID; wait $PID 2>/dev/null || true
cd /tmp/swar && rm -rf $W
perf script -i /tmp/swar/$NAME.data -F comm,ip,sym --no-demangle 2>/dev/null > /tmp/swar/$NAME.txt
python3 - /tmp/swar/$NAME.txt $NAME <<'PY'
import sys, json
path, name = sys.argv[1], sys.argv[2]
targets = {'tape': 'JSONTape5parse', 'string': 'LLV6stringyyAA9JSONErrorVYKF', 'makeEventRecord': 'makeEventRecord', 'extract': 'EventExtractorO7extract7payload'}
counts = dict.fromkeys(targets, 0); loops = 0
stack = []; comm = None
def flush():
    global loops
    if not stack or not comm.startswith('NIO'): return
    loops += 1
    for k, t in targets.items():
        if any(t in f for f in stack): counts[k] += 1
for line in open(path):
    if not line.strip(): flush(); stack = []; continue
    if not line.startswith((' ', '\t')): comm = line.split()[0]; continue
    p = line.split(None, 1); stack.append(p[1] if len(p) > 1 else '')
flush()
row = dict(case=name, loop_samples=loops, **{k: round(100 * v / loops, 2) for k, v in counts.items()},
           tape_of_record=round(100 * counts['tape'] / max(counts['makeEventRecord'], 1), 1))
print(json.dumps(row))
open('/tmp/swar/prof.jsonl', 'a').write(json.dumps(row) + '\n')
PY
