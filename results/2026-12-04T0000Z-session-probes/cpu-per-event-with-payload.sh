#!/usr/bin/env bash
# CPU time pitd spends per stored event, per thread group (event loops, writer, other), at a
# fixed offered rate: a figure that a busy, shared machine disturbs far less than throughput.
# Reads /proc/<pid>/task/*/stat before and after a pit-bench run against a fresh pitd.
# Usage: scripts/bench-cpu-per-event [PITD_BIN] [RATE] [SECONDS]   (env: PITD_SET="k=v ...",
#        RECORD=results/<dir> appends the figures as one JSON line to RECORD/cpu-per-event.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PITD=${1:-.build/release/pitd}
RATE=${2:-6000}
SECONDS_=${3:-20}
PORT=${PORT:-18500}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cd "$WORK"
"$OLDPWD/$PITD" init --json >init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':$PORT/'))")
args=()
for kv in ${PITD_SET:-}; do args+=(--set "$kv"); done
"$OLDPWD/$PITD" serve --bind "127.0.0.1:$PORT" "${args[@]}" >pitd.log 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break; sleep 0.1; done
snapshot() {
    for task in /proc/$PID/task/*; do
        name=$(cat "$task/comm")
        # utime and stime are the 14th and 15th fields; the name before them may hold spaces.
        line=$(cat "$task/stat" 2>/dev/null) || continue
        rest=${line##*) }
        set -- $rest
        echo "${name// /_} ${12} ${13}"
    done
}
snapshot >before.txt
"$OLDPWD/.build/release/pit-bench" --dsn "$DSN" --rate "$RATE" --duration "${SECONDS_}s" --no-record --quiet >bench.txt 2>&1 || true
sleep 1
snapshot >after.txt
STORED=$(python3 -c "import sqlite3;print(sqlite3.connect('pit-data/pit.sqlite').execute('select count(*) from events').fetchone()[0])")
echo "payload bytes/event: $(python3 -c "import sqlite3;print(sqlite3.connect('pit-data/pit.sqlite').execute('select avg(length(payload)) from events where id > 2000').fetchone()[0])")"
python3 - "$STORED" "$PITD" "$RATE" "$SECONDS_" "${RECORD:+$ROOT/$RECORD}" <<'PY'
import sys, collections, os, json, time
hz = os.sysconf('SC_CLK_TCK')
def load(p):
    d = collections.defaultdict(float)
    for line in open(p):
        parts = line.rsplit(None, 2)
        name = parts[0]
        group = 'event loops' if name.startswith('NIO') else name
        d[group] += (int(parts[1]) + int(parts[2])) / hz
    return d
b, a = load('before.txt'), load('after.txt')
stored = int(sys.argv[1])
total = 0.0
print(f"stored events: {stored}")
for k in sorted(a):
    used = a[k] - b.get(k, 0)
    total += used
    if used > 0.05: print(f"  {k:28s} {used:7.2f} s CPU  {used / max(stored,1) * 1e6:7.1f} us/event")
print(f"  {'total':28s} {total:7.2f} s CPU  {total / max(stored,1) * 1e6:7.1f} us/event")
if len(sys.argv) > 5 and sys.argv[5]:
    os.makedirs(sys.argv[5], exist_ok=True)
    row = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "pitd": sys.argv[2], "rate": float(sys.argv[3]),
           "seconds": float(sys.argv[4]), "stored": stored, "load_average": os.getloadavg()[0],
           "cpu_us_per_event": {k: round((a[k] - b.get(k, 0)) / max(stored, 1) * 1e6, 1) for k in a if a[k] - b.get(k, 0) > 0.05},
           "total_cpu_us_per_event": round(total / max(stored, 1) * 1e6, 1)}
    with open(os.path.join(sys.argv[5], "cpu-per-event.jsonl"), "a") as f: f.write(json.dumps(row) + "\n")
PY
tail -3 bench.txt
