import sys, re, collections
f=sys.argv[1]; t0=float(sys.argv[2]); t1=float(sys.argv[3])
byts=collections.defaultdict(dict)
for l in open(f):
  r=l.split(None,6)
  if len(r)<7 or r[1] not in 'JP': continue
  byts[float(r[0])][(r[1],r[2],r[3],r[6].strip())]=int(r[4])+int(r[5])
ts=sorted(byts); a=min(ts,key=lambda t:abs(t-t0)); b=min(ts,key=lambda t:abs(t-t1))
w=b-a; groups=collections.defaultdict(int); tot=collections.defaultdict(int)
def norm(n): return re.sub(r'\d+','#',n)
for k,v in byts[b].items():
  if k in byts[a]:
    d=v-byts[a][k]; g=('JVM'+k[1] if k[0]=='J' else 'PG', norm(k[3]) if k[0]=='J' else k[3]); groups[g]+=d; tot[g[0]]+=d
print('window %.1f s'%w)
for g,v in sorted(groups.items(), key=lambda x:-x[1]):
  if v/100/w>=0.005: print('%-10s %-45s %6.3f cores'%(g[0],g[1][:45],v/100/w))
for k,v in tot.items(): print('TOTAL',k,'%.3f'%(v/100/w))
