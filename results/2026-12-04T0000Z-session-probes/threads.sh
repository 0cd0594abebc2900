#!/usr/bin/env bash
# per-thread CPU of pitd and pit-bench during a run at RATE for SECS; samples /proc every 2 s
RATE=$1; SECS=$2; PITD=${3:-/work/main/.build/ab/pitd-head}
W=$(mktemp -d); cd $W
$PITD init --json > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':18630/'))")
$PITD serve --bind 127.0.0.1:18630 > pitd.log 2>&1 &
PID=$!
sleep 1.5
/work/main/.build/release/pit-bench --dsn "$DSN" --rate $RATE --duration ${SECS}s --no-record --quiet > bench.txt 2>&1 &
BP=$!
sleep 1
snap() { for t in /proc/$1/task/*; do l=$(cat $t/stat 2>/dev/null) || continue; r=${l##*) }; set -- $r; echo "$(cat $t/comm | tr ' ' _) ${12} ${13}"; done; }
snap $PID > p0; snap $BP > b0; head -1 /proc/stat > s0
sleep $((SECS-4))
snap $PID > p1; snap $BP > b1; head -1 /proc/stat > s1
wait $BP
python3 - <<'PY'
import collections
def load(f):
    d=collections.Counter()
    for l in open(f):
        n,u,s=l.split(); d[n]+=int(u)+int(s)
    return d
for who in 'pb':
    a,b=load(who+'0'),load(who+'1')
    print({'p':'pitd','b':'pit-bench'}[who], {k: round((b[k]-a[k])/100/ (1),2) for k in b if b[k]-a[k]>5})
s0=list(map(int,open('s0').read().split()[1:])); s1=list(map(int,open('s1').read().split()[1:]))
d=[y-x for x,y in zip(s0,s1)]; tot=sum(d)
print('machine: user %.0f%% sys %.0f%% idle %.0f%% iowait %.0f%% steal %.0f%%'%(100*d[0]/tot,100*d[2]/tot,100*d[3]/tot,100*d[4]/tot,100*d[7]/tot), 'interval', tot/200, 's')
PY
tail -4 bench.txt | head -2
kill $PID; wait $PID 2>/dev/null; cd /; rm -rf $W
