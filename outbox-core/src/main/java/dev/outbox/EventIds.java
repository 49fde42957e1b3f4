package dev.outbox;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Generates time-ordered UUIDv7 event ids (RFC 9562): 48 bits of Unix milliseconds, then random
 * bits. Ids made in the same millisecond by one process still sort in creation order.
 */
public final class EventIds {

  private static final SecureRandom SEED = new SecureRandom();
  private static final long NODE = SEED.nextLong();
  private static final AtomicLong LAST = new AtomicLong();

  private EventIds() {}

  /** Returns a new UUIDv7. */
  public static UUID next() {
    long timeAndCounter = nextTimeAndCounter();
    long millis = timeAndCounter >>> 12;
    long counter = timeAndCounter & 0xFFFL;
    long msb = (millis << 16) | 0x7000L | counter;
    long random = NODE ^ java.util.concurrent.ThreadLocalRandom.current().nextLong();
    long lsb = (random & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }

  /** Millisecond timestamp shifted left by 12 bits plus a 12-bit counter, strictly increasing. */
  private static long nextTimeAndCounter() {
    long now = System.currentTimeMillis() << 12;
    while (true) {
      long last = LAST.get();
      long next = Math.max(now, last + 1);
      if (LAST.compareAndSet(last, next)) {
        return next;
      }
    }
  }

  /** The millisecond timestamp encoded in a UUIDv7. */
  public static long timestampMillis(UUID id) {
    if (id.version() != 7) {
      throw new IllegalArgumentException("not a UUIDv7: " + id);
    }
    return id.getMostSignificantBits() >>> 16;
  }
}
