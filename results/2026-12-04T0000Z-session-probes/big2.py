# A/B on a copy of a 1M-event dataset: pitd CPU per request, bytes written, latency.
import json, os, subprocess, sys, tempfile, time, urllib.request, re
from pathlib import Path
BENCH='/work/main/.build/release/pit-bench'
RATE=int(sys.argv[1]); SECS=int(sys.argv[2]); ROUNDS=int(sys.argv[3])
CASES=[c.split(':',2) for c in sys.argv[4:]]  # name:binary:dataset
PORT=18993
def cpu(pid):
    f=open(f"/proc/{pid}/stat").read().rsplit(")",1)[1].split(); return (int(f[11])+int(f[12]))/os.sysconf("SC_CLK_TCK")
def wb(pid):
    for l in open(f"/proc/{pid}/io"):
        if l.startswith("write_bytes:"): return int(l.split()[1])
def rb(pid):
    for l in open(f"/proc/{pid}/io"):
        if l.startswith("rchar:"): return int(l.split()[1])
out=open(os.environ.get('OUT','/tmp/ab/big2.jsonl'),'a')
for r in range(ROUNDS):
  for name,binary,DATASET in CASES:
    env=dict(os.environ)
    for kv in []:
        k,v=kv.split('='); env[k]=v
    work=Path(tempfile.mkdtemp(prefix='big-'))
    subprocess.run(['cp','-r',DATASET+'/.',str(work)],check=True)
    (work/'pitd.lock').unlink(missing_ok=True)
    log=open(work/'pitd.log','w')
    p=subprocess.Popen([binary,'serve','--data-dir',str(work),'--bind',f'127.0.0.1:{PORT}'],env=env,stdout=log,stderr=log)
    for _ in range(200):
        try: urllib.request.urlopen(f'http://127.0.0.1:{PORT}/health',timeout=1); break
        except Exception: time.sleep(0.1)
    time.sleep(1)
    dsn=re.search(r'pit\.dsn=(\S+)',open(work/'pitd.log').read()).group(1)
    c0,w0,r0=cpu(p.pid),wb(p.pid),rb(p.pid)
    b=subprocess.run([BENCH,'--dsn',dsn,'--rate',str(RATE),'--duration',f'{SECS}s','--fingerprints','10000','--users','5000','--releases','8','--no-record'],capture_output=True,text=True)
    time.sleep(1)
    c1,w1,r1=cpu(p.pid),wb(p.pid),rb(p.pid)
    p.terminate(); p.wait()
    n=RATE*SECS
    lat=[l for l in b.stdout.splitlines() if 'latency from due' in l]
    row=dict(case=name,round=r,requests=n,cpu_us=round((c1-c0)/n*1e6,1),kib_written=round((w1-w0)/n/1024,1),kib_read_syscalls=round((r1-r0)/n/1024,1),lat=lat[0].strip()[23:80] if lat else b.stdout[-300:])
    print(json.dumps(row),flush=True); out.write(json.dumps(row)+'\n'); out.flush()
    subprocess.run(['rm','-rf',str(work)])
