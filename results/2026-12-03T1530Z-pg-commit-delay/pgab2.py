import json, os, subprocess, sys, tempfile, time, urllib.request, re
from pathlib import Path
BENCH='/work/main/.build/release/pit-bench'
RATE=int(sys.argv[1]); SECS=int(sys.argv[2]); ROUNDS=int(sys.argv[3]); MIX=os.environ.get('MIX','app')
CASES=[(c.split(':')+[''])[:3] for c in sys.argv[4:]]
PORT=18991; PG='postgres://pit@127.0.0.1:55472'
def pgcpu():
    t=0
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            if open(f'/proc/{p}/comm').read().strip()!='postgres': continue
            f=open(f'/proc/{p}/stat').read().rsplit(')',1)[1].split(); t+=int(f[11])+int(f[12])
        except Exception: pass
    return t/os.sysconf('SC_CLK_TCK')
def cpu(pid):
    f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split(); return (int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK")
out=open(os.environ.get('OUT','/tmp/ab/pgab.jsonl'),'a')
for r in range(ROUNDS):
  for name,binary,sets in CASES:
    extra=[a for kv in sets.split(',') if kv for a in ('--set',kv)]
    db=f'ab_{name}_{r}_{int(time.time())}'
    subprocess.run(['psql',f'{PG}/pit','-qc',f'create database {db}'],check=True)
    url=f'{PG}/{db}'
    work=Path(tempfile.mkdtemp(prefix='pgab-'))
    info=json.loads(subprocess.run([binary,'init','--json','--set',f'database_url={url}'],cwd=work,check=True,capture_output=True,text=True).stdout)
    dsn=info['dsn'].replace(':8000/',f':{PORT}/')
    p=subprocess.Popen([binary,'serve','--bind',f'127.0.0.1:{PORT}','--set',f'database_url={url}']+extra,cwd=work,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    for _ in range(100):
        try: urllib.request.urlopen(f'http://127.0.0.1:{PORT}/health',timeout=1); break
        except Exception: time.sleep(0.1)
    time.sleep(1)
    c0,g0=cpu(p.pid),pgcpu()
    b=subprocess.run([BENCH,'--dsn',dsn,'--mix',MIX,'--rate',str(RATE),'--duration',f'{SECS}s','--no-record'],capture_output=True,text=True)
    time.sleep(1)
    c1,g1=cpu(p.pid),pgcpu()
    m=urllib.request.urlopen(f'http://127.0.0.1:{PORT}/metrics').read().decode()
    cs=float(re.search(r'^pit_commit_seconds_sum (\S+)',m,re.M).group(1)); cc=float(re.search(r'^pit_commit_seconds_count (\S+)',m,re.M).group(1))
    p.terminate(); p.wait()
    n=RATE*SECS
    lat=[l for l in b.stdout.splitlines() if 'latency from due' in l]
    row=dict(case=name,round=r,requests=n,pitd_cpu_us=round((c1-c0)/n*1e6,1),postgres_cpu_us=round((g1-g0)/n*1e6,1),commits=int(cc),commit_ms_mean=round(cs/cc*1000,2),writer_busy=round(cs/SECS,2),lat=lat[0].strip() if lat else '')
    print(json.dumps(row),flush=True); out.write(json.dumps(row)+'\n'); out.flush()
    subprocess.run(['psql',f'{PG}/pit','-qc',f'drop database {db}'])
    subprocess.run(['rm','-rf',str(work)])
