import sys, json
path, name = sys.argv[1], sys.argv[2]
targets = {'firstLine': 'Grouper9firstLine', 'truncate': 'Grouper8truncate', 'isValidTag': 'FieldLimits10isValidTag', 'makeEventRecord': 'makeEventRecord', 'grouper': 'Grouper'}
counts = dict.fromkeys(targets, 0); loops = 0
stack = []; comm = None
def flush():
    global loops
    if not stack or not comm.startswith('NIO'): return
    loops += 1
    for k, t in targets.items():
        if any(t in f for f in stack): counts[k] += 1
for line in open(path):
    if not line.strip(): flush(); stack = []; continue
    if not line.startswith((' ', '\t')): comm = line.split()[0]; continue
    p = line.split(None, 1); stack.append(p[1] if len(p) > 1 else '')
flush()
row = dict(case=name, loop_samples=loops, **{k: round(100 * v / loops, 2) for k, v in counts.items()})
print(json.dumps(row))
