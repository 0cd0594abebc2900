import json, os, subprocess, sys, tempfile, time, sqlite3, urllib.request
from pathlib import Path
ROOT=Path('/work/main'); BENCH=ROOT/'.build/release/pit-bench'
RATE=int(sys.argv[1]); SECS=int(sys.argv[2]); ROUNDS=int(sys.argv[3])
CASES=[c.split(':',2) for c in sys.argv[4:]]  # name:binary:ENV=V,ENV=V
PORT=18990
def cpu(pid):
    f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split(); return (int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK")
def wb(pid):
    for l in open(f"/proc/{pid}/io"):
        if l.startswith("write_bytes:"): return int(l.split()[1])
out=open('/tmp/ab/ab.jsonl','a')
for r in range(ROUNDS):
  for name,binary,envs in CASES:
    env=dict(os.environ)
    for kv in filter(None,envs.split(',')):
        k,v=kv.split('='); env[k]=v
    work=Path(tempfile.mkdtemp(prefix='ab-'))
    info=json.loads(subprocess.run([binary,'init','--json'],cwd=work,env=env,check=True,capture_output=True,text=True).stdout)
    dsn=info['dsn'].replace(':8000/',f':{PORT}/')
    p=subprocess.Popen([binary,'serve','--bind',f'127.0.0.1:{PORT}'],cwd=work,env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    for _ in range(100):
        try: urllib.request.urlopen(f'http://127.0.0.1:{PORT}/health',timeout=1); break
        except Exception: time.sleep(0.1)
    c0,w0=cpu(p.pid),wb(p.pid)
    b=subprocess.run([str(BENCH),'--dsn',dsn]+(['--mix',os.environ['MIX']] if os.environ.get('MIX') else [])+['--rate',str(RATE),'--duration',f'{SECS}s','--no-record'],capture_output=True,text=True)
    time.sleep(1)
    c1,w1=cpu(p.pid),wb(p.pid)
    p.terminate(); p.wait()
    db=work/'pit-data/pit.sqlite'
    n=max(1,sqlite3.connect(db).execute('select count(*) from events').fetchone()[0]+sqlite3.connect(db).execute('select count(*) from transactions').fetchone()[0])
    ps=sqlite3.connect(db).execute('pragma page_size').fetchone()[0]
    size=db.stat().st_size
    lat=[l for l in b.stdout.splitlines() if 'latency from due' in l]
    row=dict(case=name,round=r,stored=n,page=ps,cpu_us=round((c1-c0)/n*1e6,1),kib_written=round((w1-w0)/n/1024,1),db_bytes_per_event=round(size/n),lat=lat[0].strip() if lat else '')
    print(json.dumps(row)); out.write(json.dumps(row)+'\n'); out.flush()
    subprocess.run(['rm','-rf',str(work)])
