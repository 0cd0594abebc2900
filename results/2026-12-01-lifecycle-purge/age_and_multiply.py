"""Ages every event of a pitd SQLite database by 100 days and multiplies them to N rows (direct
fill for the purge measurement: real payloads from pit-bench, copied with fresh event ids)."""
import sqlite3, sys, time
path, target = sys.argv[1], int(sys.argv[2])
age = 100 * 86_400_000
db = sqlite3.connect(path, timeout=60)
db.execute("PRAGMA journal_mode=WAL")
t0 = time.time()
n = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
with db:
    db.execute(f"UPDATE events SET received = received - {age}, timestamp = timestamp - {age}")
    db.execute(f"UPDATE issues SET first_seen = first_seen - {age}, last_seen = last_seen - {age}")
copies = 0
while n < target:
    take = min(n, target - n)
    with db:
        db.execute(f"""INSERT INTO events (project_id, issue_id, event_id, timestamp, received, level, release, environment,
                       user_key, processing_errors, payload_size, payload, dictionary_id)
                       SELECT project_id, issue_id, randomblob(16), timestamp, received, level, release, environment,
                       user_key, processing_errors, payload_size, payload, dictionary_id FROM events ORDER BY id LIMIT {take}""")
    n += take
    copies += 1
with db:
    db.execute("UPDATE issues SET times_seen = (SELECT COUNT(*) FROM events e WHERE e.issue_id = issues.id)")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(f"{n} events, all aged 100 days, in {time.time() - t0:.1f}s")
