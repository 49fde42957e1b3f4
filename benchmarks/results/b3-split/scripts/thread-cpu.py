# CPU per thread group over the window in which the client threads of JVM <pid> were busy, from
# thread-poll.sh output: python3 thread-cpu.py <file> <pid>
import sys, re, collections
f=sys.argv[1]; app=sys.argv[2]
rows=[l.split(None,6) for l in open(f) if l.split()[1] in 'JP']
byts=collections.defaultdict(dict)
for r in rows:
  byts[float(r[0])][(r[1],r[2],r[3],r[6].strip())]=int(r[4])+int(r[5])
ts=sorted(byts)
# client thread cpu per interval
act=[]
for a,b in zip(ts,ts[1:]):
  c=sum(v-byts[a].get(k,v) for k,v in byts[b].items() if k[1]==app and k[3].startswith('client-'))
  act.append((a,b,c))
win=[(a,b) for a,b,c in act if c>(b-a)*100*0.15]
t0,t1=win[0][0],win[-1][1]
# shrink 1 sample each side
t0=[t for t in ts if t>t0][0]; t1=[t for t in ts if t<t1][-1]
print('steady window %.1f s'%(t1-t0))
def norm(n): return re.sub(r'\d+','#',n)
groups=collections.defaultdict(int); tot=collections.defaultdict(int)
for k,v in byts[t1].items():
  if k in byts[t0]:
    d=v-byts[t0][k]; g=('JVM'+k[1] if k[0]=='J' else 'PG', norm(k[3]) if k[0]=='J' else k[3])
    groups[g]+=d; tot[g[0]]+=d
w=t1-t0
for g,v in sorted(groups.items(), key=lambda x:-x[1]):
  if v/100/w>=0.003: print('%-10s %-45s %6.3f cores'%(g[0],g[1][:45],v/100/w))
for k,v in tot.items(): print('TOTAL',k,'%.3f'%(v/100/w))
