import json, glob, os
def q(s): return (s or '')[:28]
for f in sorted(glob.glob('/work/notes/ab/ab-*.json')):
    d = json.load(open(f))
    print('==', os.path.basename(f))
    for case in ['b3-1','b3-1-writer','b3-1-hand','b3-10','b4-kafka','b6-1','b6-3','b6-failover','b4-rabbit']:
        for i, r in enumerate(d.get(case, []) or []):
            parts = []
            for k in ['commitRate','publishRate','sustainable','backlogAtEnd','rate','longestRelayTxMs']:
                if k in r: parts.append(f"{k}={r[k]}")
            if 'committed' in r and 'committedPerSecond' not in r: parts.append(f"committed={r.get('committed')}")
            if case=='b6-failover':
                parts.append(str({k: v for k, v in r['failover'].items() if 'Ms' in k}))
            parts.append(q(r.get('longestRelayTxQuery')))
            parts.append(str(r.get('slowSampleWaits')))
            print(f"  {case} {i+1}: " + ' '.join(parts))
