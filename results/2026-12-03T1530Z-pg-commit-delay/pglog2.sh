#!/bin/bash
# usage: pglog.sh BINARY RATE SECONDS OUT
B=$1; R=$2; S=$3; OUT=$4
PG=postgres://pit@127.0.0.1:55472
DB=pglog_$(date +%s)
psql $PG/pit -qc "create database $DB" -c "alter database $DB set log_min_duration_statement = 0"
W=$(mktemp -d); cd $W
$B init --json --set database_url=$PG/$DB > init.json 2>/dev/null
DSN=$(python3 -c "import json;print(json.load(open('init.json'))['dsn'].replace(':8000/', ':18992/'))")
$B serve --bind 127.0.0.1:18992 --set database_url=$PG/$DB ${SETS:-} > pitd.log 2>&1 &
P=$!
sleep 3
L0=$(wc -l < /tmp/pg-main/server.log)
/work/main/.build/release/pit-bench --dsn "$DSN" --mix app --rate $R --duration ${S}s --no-record --quiet | grep 'latency from'
sleep 1
tail -n +$L0 /tmp/pg-main/server.log > $OUT
kill $P; wait $P 2>/dev/null
psql $PG/pit -qc "drop database $DB"
rm -rf $W
