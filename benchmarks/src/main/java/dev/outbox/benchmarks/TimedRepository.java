package dev.outbox.benchmarks;

import dev.outbox.OutboxEvent;
import dev.outbox.store.Claim;
import dev.outbox.store.OutboxRepository;
import java.sql.Connection;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.HdrHistogram.Histogram;

/**
 * Wraps the library's repository and times the phases of each relay cycle: the claim query, the
 * publishing (from the claim's return to its completion) and the completion statement. Shows where
 * a relay cycle spends its time without changing what it does.
 */
final class TimedRepository implements OutboxRepository {

  static {
    Delegation.requireAll(OutboxRepository.class, TimedRepository.class);
  }

  private final OutboxRepository delegate;
  private final Histogram claimMicros = Pct.micros();
  private final Histogram publishMicros = Pct.micros();
  private final Histogram completeMicros = Pct.micros();
  private final Histogram batchSizes = new Histogram(100_000, 2);
  private long emptyCycles;

  TimedRepository(OutboxRepository delegate) {
    this.delegate = delegate;
  }

  @Override
  public void append(Connection connection, List<OutboxEvent> events) {
    delegate.append(connection, events);
  }

  @Override
  public Claim claim(int limit) {
    long start = System.nanoTime();
    Claim claim = delegate.claim(limit);
    long claimed = System.nanoTime();
    int size = claim.events().size();
    synchronized (this) {
      claimMicros.recordValue((claimed - start) / 1000);
      if (size == 0) {
        emptyCycles++;
      } else {
        batchSizes.recordValue(size);
      }
    }
    return new Claim() {
      @Override
      public List<OutboxEvent> events() {
        return claim.events();
      }

      @Override
      public void complete(Collection<UUID> published, List<Retry> retries, List<Dead> dead) {
        long begin = System.nanoTime();
        claim.complete(published, retries, dead);
        long end = System.nanoTime();
        synchronized (TimedRepository.this) {
          publishMicros.recordValue((begin - claimed) / 1000);
          completeMicros.recordValue((end - begin) / 1000);
        }
      }

      @Override
      public void close() {
        claim.close();
      }
    };
  }

  synchronized Map<String, Object> summary() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("cycles", claimMicros.getTotalCount());
    out.put("emptyCycles", emptyCycles);
    out.put("meanBatch", Math.round(batchSizes.getMean()));
    out.put("claimMs", Pct.summary(claimMicros));
    out.put("publishMs", Pct.summary(publishMicros));
    out.put("completeMs", Pct.summary(completeMicros));
    return out;
  }

  @Override
  public List<DeadEvent> findDead(int limit) {
    return delegate.findDead(limit);
  }

  @Override
  public boolean replay(UUID id) {
    return delegate.replay(id);
  }

  @Override
  public boolean discard(UUID id) {
    return delegate.discard(id);
  }

  @Override
  public Stats stats() {
    return delegate.stats();
  }

  @Override
  public void verifySchema() {
    delegate.verifySchema();
  }
}
