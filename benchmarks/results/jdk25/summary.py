# Prints the A/B figures of an alternated run, pooled over the directories named (each holding
# results-<n>-<A|B>.json). The tables of benchmarks/NOTES.md:
#   "The relay on Java 25 against Java 17" (A: 17, B: 25): summary.py benchmarks/results/jdk25
#   "An AOT cache for the relay JVMs" (A: none, B: the cache): summary.py .../aot-cache/round-1
#     (round 1), summary.py .../aot-cache/round-1 .../round-2 .../round-3 (the 100,000 drains)
import sys,json,glob,statistics as st,re
cases=['b4-kafka-100k','b4-kafka-100k-warm','b4-kafka','b6-1','b6-3']
data={'A':{c:[] for c in cases},'B':{c:[] for c in cases}}
for f in sorted(f for d in sys.argv[1:] for f in glob.glob(d + '/results-*.json')):
    side=re.search(r'-([AB])\.json',f).group(1)
    r=json.load(open(f))
    for c in cases:
        for run in r.get(c,[]):
            data[side][c].append(run)
def fmt(xs,d=0):
    xs=sorted(xs); return f"{st.median(xs):,.{d}f} ({xs[0]:,.{d}f}–{xs[-1]:,.{d}f})"
for c in cases:
    for side in 'AB':
        runs=data[side][c]
        if not runs: continue
        rate=[x['rate'] for x in runs]; tx=[x['longestRelayTxMs'] for x in runs]
        jit=[x['cpuCores'].get('JIT compilers',0) for x in runs]; jvm=[x['cpuCores'].get('benchmark JVM',0) for x in runs]
        mid=[x['middleRate'] for x in runs if 'middleRate' in x]
        fp=[x['firstPublishAfterMs'] for x in runs if 'firstPublishAfterMs' in x]
        print(f"{c:20s} {side} n={len(runs)} rate {fmt(rate)} mid {fmt(mid) if mid else '-'} tx {fmt(tx,1)} jvm {fmt(jvm,2)} jit {fmt(jit,2)} first {fmt(fp) if fp else '-'}")
# ratios
for side in 'AB':
    one=[x['rate'] for x in data[side]['b6-1']]; three=[x['rate'] for x in data[side]['b6-3']]
    if one and three: print(side,'b6 3/1 medians', round(st.median(three)/st.median(one),2))
    m=[x['rate'] for x in data[side]['b4-kafka']]; c=[x['rate'] for x in data[side]['b4-kafka-100k']]; w=[x['rate'] for x in data[side]['b4-kafka-100k-warm']]
    if m and c: print(side,'100k cold / 1M', round(st.median(c)/st.median(m),2), 'warm/1M', round(st.median(w)/st.median(m),2) if w else '-')
    heap=[x['maxHeapUsedMb'] for x in data[side]['b4-kafka-100k']]
    if heap: print(side,'100k peak heap used, MB', fmt(heap,1))
a=[x['rate'] for x in data['A']['b4-kafka-100k']]; b=[x['rate'] for x in data['B']['b4-kafka-100k']]
if a and b: print('100k: a run of B faster than a run of A in', sum(1 for x in b for y in a if x > y), 'of', len(a)*len(b), 'pairs')
