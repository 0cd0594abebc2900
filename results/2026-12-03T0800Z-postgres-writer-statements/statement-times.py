#!/usr/bin/env python3
"""Sums PostgreSQL's per-phase statement durations (log_min_duration_statement = 0) by phase and
by statement: parse, bind (where an unnamed statement is planned) and execute.
Usage: statement-times.py server.log-excerpt"""
import collections, re, sys
total = collections.defaultdict(float)
count = collections.Counter()
for line in open(sys.argv[1]):
    m = re.search(r"duration: ([0-9.]+) ms  (parse|bind|execute) [^:]*: (.{0,45})", line)
    if m:
        key = (m.group(2), re.sub(r"\s+", " ", m.group(3)))
        total[key] += float(m.group(1))
        count[key] += 1
phases = collections.defaultdict(float)
for (phase, _), ms in total.items():
    phases[phase] += ms
print("by phase, ms:", {k: round(v, 1) for k, v in phases.items()}, "sum", round(sum(phases.values()), 1))
for key, ms in sorted(total.items(), key=lambda kv: -kv[1])[:25]:
    print(f"{ms:8.1f} ms {count[key]:5d}x  {key[0]:8s} {key[1]}")
