package dev.outbox.inbox;

import java.time.Duration;

/** The default of every inbox setting, defined once. */
public final class InboxDefaults {

  /** The inbox table, {@value}. */
  public static final String TABLE = "outbox_inbox";

  /**
   * How long a handled message id is kept: 7 days, Kafka's default log retention. A redelivery
   * older than this is handled again.
   */
  public static final Duration RETENTION = Duration.ofDays(7);

  /** How often expired ids are deleted. */
  public static final Duration CLEANUP_INTERVAL = Duration.ofMinutes(10);

  /** Rows deleted per statement (one short transaction each). */
  public static final int CLEANUP_BATCH_SIZE = 1000;

  /** Longest message id and consumer name accepted, in characters. */
  public static final int MAX_ID_LENGTH = 255;

  private InboxDefaults() {}
}
