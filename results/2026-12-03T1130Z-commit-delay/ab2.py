# Alternated A/B of pitd settings: pitd CPU per stored event (event loops / writer / other), mean
# events per commit, p50/p99 from due time. A fresh data folder per run, or a copy of DATASET.
import json, os, re, sqlite3, subprocess, sys, tempfile, time, urllib.request, collections
from pathlib import Path
rate, secs, rounds, dataset = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cases = [c.split(':', 2) for c in sys.argv[5:]]   # name:binary:k=v,k=v
BENCH = '/work/main/.build/release/pit-bench'; PORT = 18996
out = open(os.environ.get('OUT', '/tmp/ab/ab2.jsonl'), 'a')
def threads(pid):
    d = collections.Counter()
    for t in os.listdir(f'/proc/{pid}/task'):
        try:
            name = open(f'/proc/{pid}/task/{t}/comm').read().strip()
            f = open(f'/proc/{pid}/task/{t}/stat').read().rsplit(')', 1)[1].split()
        except OSError: continue
        group = 'loops' if name.startswith('NIO') else 'writer' if 'default-qos' in name else 'other'
        d[group] += (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
    return d
def metric(name):
    text = urllib.request.urlopen(f'http://127.0.0.1:{PORT}/metrics', timeout=5).read().decode()
    s = re.search(rf'^{name}_sum (\S+)', text, re.M); c = re.search(rf'^{name}_count (\S+)', text, re.M)
    return float(s.group(1)) if s else 0, float(c.group(1)) if c else 0
for r in range(rounds):
    for name, binary, sets in cases:
        work = Path(tempfile.mkdtemp(prefix='ab2-'))
        if dataset != '-':
            subprocess.run(['cp', '-r', dataset + '/.', str(work)], check=True); (work / 'pitd.lock').unlink(missing_ok=True)
        else:
            subprocess.run([binary, 'init', '--data-dir', str(work)], check=True, capture_output=True)
        args = [binary, 'serve', '--data-dir', str(work), '--bind', f'127.0.0.1:{PORT}']
        for kv in filter(None, sets.split(',')): args += ['--set', kv]
        log = open(work / 'pitd.log', 'w'); p = subprocess.Popen(args, stdout=log, stderr=log)
        for _ in range(300):
            try: urllib.request.urlopen(f'http://127.0.0.1:{PORT}/health', timeout=1); break
            except Exception: time.sleep(0.1)
        time.sleep(1.5)
        dsn = re.search(r'pit\.dsn=(\S+)', open(work / 'pitd.log').read()).group(1)
        db = sqlite3.connect(str(work / 'pit.sqlite')); n0 = db.execute('select count(*) from events').fetchone()[0]
        c0 = threads(p.pid); b0 = metric('pit_batch_size')
        b = subprocess.run([BENCH, '--dsn', dsn, '--rate', str(rate), '--duration', f'{secs}s', '--no-record', '--quiet'], capture_output=True, text=True)
        time.sleep(1)
        c1 = threads(p.pid); b1 = metric('pit_batch_size')
        n = db.execute('select count(*) from events').fetchone()[0] - n0; db.close()
        p.terminate(); p.wait()
        m = re.search(r'p50 ([\d.]+) ms.*?p99 ([\d.]+) ms', b.stdout)
        r503 = re.search(r'(\d+) requests answered 503', b.stdout)
        row = dict(case=name, round=r, rate=rate, secs=secs, stored=n, batch_mean=round((b1[0]-b0[0])/max(b1[1]-b0[1],1),1),
                   **{f'{k}_us': round((c1[k]-c0[k])/max(n,1)*1e6,1) for k in ('loops','writer','other')},
                   total_us=round(sum(c1[k]-c0[k] for k in c1)/max(n,1)*1e6,1),
                   p50=float(m.group(1)) if m else None, p99=float(m.group(2)) if m else None, r503=int(r503.group(1)) if r503 else 0)
        print(json.dumps(row), flush=True); out.write(json.dumps(row) + '\n'); out.flush()
        if row['r503'] == 0: subprocess.run(['rm', '-rf', str(work)])
        else: print('kept', work, flush=True); open(work / 'bench.txt', 'w').write(b.stdout + b.stderr)
