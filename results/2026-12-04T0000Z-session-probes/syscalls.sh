#!/usr/bin/env bash
# sysc.sh BIN RATE: syscalls per request of pitd over 6 s at RATE
BIN=$1; RATE=$2
W=$(mktemp -d); cd $W
$BIN init --json > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':18640/'))")
$BIN serve --bind 127.0.0.1:18640 > pitd.log 2>&1 &
PID=$!
sleep 1.5
/work/main/.build/release/pit-bench --dsn "$DSN" --rate $RATE --duration 10s --no-record --quiet > bench.txt 2>&1 &
sleep 2
perf stat -x, -e syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read,syscalls:sys_enter_readv,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_futex,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_fdatasync -p $PID -- sleep 6 2>&1 | awk -F, -v n=$((RATE*6)) '{printf "%-36s %10d  %.2f/request\n", $3, $1, $1/n}'
wait %2
kill $PID; wait $PID 2>/dev/null; cd /; rm -rf $W
