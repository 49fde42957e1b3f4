# Prints the figures of each A/B invocation from its results file, in the order they ran.
import json, glob, os, re
def key(f): return int(re.search(r'ab-(\d+)-', f).group(1))
for f in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ab-*.json')), key=key):
    d = json.load(open(f))
    print('==', os.path.basename(f), 'load at start', d['caseStarts'][0]['loadAverage'])
    for case in ['b2', 'b2-low']:
        for r in d.get(case, []):
            l = r['latency']
            print(f"  {case} {r['rate']:.0f}/s: p50 {l['p50']} ms, p99 {l['p99']} ms, longest relay tx {r['longestRelayTxMs']} ms")
    for case in ['b3-1', 'b3-1-writer', 'b3-1-hand', 'b3-10']:
        for r in d.get(case, []):
            extra = f", published {r['publishRate']}/s, sustainable {r['sustainable']}/s, backlog at end {r['backlogAtEnd']}" if 'publishRate' in r else ''
            print(f"  {case}: committed {r['commitRate']}/s{extra}")
    for case in ['b4-kafka-100k', 'b4-kafka']:
        for r in d.get(case, []):
            print(f"  {case}: {r['rate']} events/s (10-90 %: {r['middleRate']}/s), longest relay tx {r['longestRelayTxMs']} ms, temp bytes {r['tempBytes']}, heap {r['maxHeapUsedMb']} MB")
