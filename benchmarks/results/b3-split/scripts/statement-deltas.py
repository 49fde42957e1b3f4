# Per-interval calls and mean server time of the B3 statements from statement-poll.sh output:
# python3 statement-deltas.py <file>
# pg_stat_statements lists a statement only once it has more than 50 calls, so the first interval in
# which a statement appears holds all its calls until then.
import sys
snaps=[];last=-9
for l in open(sys.argv[1]):
  p=l.rstrip('\n').split('|')
  if len(p)<6: continue
  t=float(p[0])
  if t-last>0.5: snaps.append((t,{}))
  last=t
  snaps[-1][1][p[1]]=(int(p[2]),float(p[3]),float(p[4]),int(p[5]))
def key(s,pfx):
  for k in s:
    if k.startswith(pfx): return k
ins='INSERT INTO outbox_event';upd='UPDATE account';pre='SELECT h.id, h.seq, h.destination';dele='DELETE FROM outbox_event';hand='INSERT INTO hand_event';cand='SELECT h.id, h.seq, h.event_key'
t0=snaps[0][0]
for (ta,a),(tb,b) in zip(snaps,snaps[1:]):
  def d(pfx,i):
    k=key(b,pfx)
    if not k: return 0
    return b[k][i]-(a[k][i] if k in a else 0)
  n=d(ins,0); h=d(hand,0); dt=tb-ta
  if n or h:
    print('%5.0f %4.1fs ins/s %5d %6.1fus plan %4.1f | upd %6.1fus | hand/s %5d %6.1fus | pre %4d rows %5d %6.0fus | cand %3d | del %4d %6.0fus'%(ta-t0,dt,n/dt, d(ins,1)*1000/max(n,1), d(ins,2)*1000/max(n,1), d(upd,1)*1000/max(1,d(upd,0)), h/dt, d(hand,1)*1000/max(1,h), d(pre,0), d(pre,3), d(pre,1)*1000/max(1,d(pre,0)), d(cand,0), d(dele,0), d(dele,1)*1000/max(1,d(dele,0))))
