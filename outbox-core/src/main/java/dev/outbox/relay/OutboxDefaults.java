package dev.outbox.relay;

import java.time.Duration;
import org.slf4j.event.Level;

/** Every default value of the outbox, defined once; the Spring properties refer to these. */
public final class OutboxDefaults {

  /** Events claimed and published per batch. */
  public static final int BATCH_SIZE = 1000;

  /** Relay workers per instance: under a backlog one reads while another awaits the broker. */
  public static final int WORKERS = 2;

  /** How often an idle relay looks for events written by other instances or missed wake-ups. */
  public static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

  /**
   * How long a batch may take from its first send to its last acknowledgement; events sent at the
   * batch's start and not acknowledged by then count as a failed attempt and are tried again.
   */
  public static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(5);

  /**
   * How long a relay instance keeps its slots without renewing its lease (it renews once per poll
   * interval). A killed instance's slots move at the next renewal of another instance, since its
   * database session ends; a frozen one's only after this time.
   */
  public static final Duration LEASE_TIMEOUT = Duration.ofSeconds(10);

  /** Whether a dead event holds back the later events of its key until an operator acts. */
  public static final boolean DEAD_EVENT_BLOCKS_KEY = false;

  /**
   * The longest pause of a relay worker after the database, the broker or the relay itself failed
   * (the pause starts at 100 ms and doubles). It bounds how long the relay takes to resume once the
   * failure is over.
   */
  public static final Duration MAX_ERROR_BACKOFF = Duration.ofSeconds(5);

  /**
   * The level of the relay's one line per batch whose events failed and will be retried (a
   * transient failure: the events are tried again, nothing is lost).
   */
  public static final Level TRANSIENT_FAILURE_LOG_LEVEL = Level.WARN;

  /** Delivery attempts before an event is dead-lettered. */
  public static final int MAX_ATTEMPTS = 10;

  /** Pause after the first failed attempt. */
  public static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);

  /** Growth of the pause per failed attempt. */
  public static final double BACKOFF_MULTIPLIER = 2.0;

  /** The longest pause between attempts. */
  public static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

  /** Random spread of each pause, as a fraction of it (0.2 = ±20 %). */
  public static final double JITTER = 0.2;

  /** Age after which a failing event is dead-lettered whatever its attempts; zero means never. */
  public static final Duration MAX_AGE = Duration.ZERO;

  /** How long shutdown waits for the batch in flight. */
  public static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Age of the oldest pending event above which the health indicator reports a problem (with the
   * status {@link #HEALTH_PROBLEM_STATUS} unless configured otherwise).
   */
  public static final Duration HEALTH_MAX_PENDING_AGE = Duration.ofMinutes(5);

  /**
   * The largest serialized payload the writer accepts, in UTF-8 bytes, unless the transport says
   * otherwise: 1 MiB, Kafka's default {@code max.request.size} and broker {@code message.max.bytes}
   * (RabbitMQ accepts far more by default).
   */
  public static final int MAX_PAYLOAD_BYTES = 1024 * 1024;

  /**
   * The health status reported when a threshold is crossed: {@code UP}, so a stuck key or a dead
   * event shows in the details without failing the application's health unless the application asks
   * for it.
   */
  public static final String HEALTH_PROBLEM_STATUS = "UP";

  /** The health status reported while the relay fails (database or broker unreachable). */
  public static final String HEALTH_RELAY_FAILURE_STATUS = "DOWN";

  /** How long the health indicator reuses what it read from the table. */
  public static final Duration HEALTH_CACHE_TIME_TO_LIVE = Duration.ofSeconds(5);

  /** How often an instance looks for dead events past their retention (when one is set). */
  public static final Duration DEAD_PURGE_INTERVAL = Duration.ofHours(1);

  /** Dead events deleted per statement by the retention. */
  public static final int DEAD_PURGE_BATCH_SIZE = 1000;

  private OutboxDefaults() {}
}
