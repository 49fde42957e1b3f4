package dev.outbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.relay.InvalidRelaySettingException;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.RetryPolicy;
import dev.outbox.store.TableName;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.slf4j.event.Level;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * The {@code outbox.*} properties. Every default is a constant of the core module. Retry settings
 * are checked once bound, in every instance (with a relay or without): a value out of range fails
 * startup naming the property.
 */
@ConfigurationProperties("outbox")
public class OutboxProperties implements InitializingBean {

  /** Whether the outbox is auto-configured at all. */
  private boolean enabled = true;

  /**
   * The largest payload (serialized JSON, UTF-8 bytes) a write accepts; a larger one fails the
   * write naming both sizes. Unset: the transport's limit, or 1 MiB in an instance without one.
   */
  private @Nullable DataSize maxPayloadSize;

  public @Nullable DataSize getMaxPayloadSize() {
    return maxPayloadSize;
  }

  public void setMaxPayloadSize(@Nullable DataSize maxPayloadSize) {
    this.maxPayloadSize = maxPayloadSize;
  }

  private final Table table = new Table();
  private final Migration migration = new Migration();
  private final Relay relay = new Relay();
  private final Retry retry = new Retry();
  private final Health health = new Health();
  private final Cdc cdc = new Cdc();
  private final Dead dead = new Dead();

  public Dead getDead() {
    return dead;
  }

  public Cdc getCdc() {
    return cdc;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public Table getTable() {
    return table;
  }

  public Migration getMigration() {
    return migration;
  }

  public Relay getRelay() {
    return relay;
  }

  public Retry getRetry() {
    return retry;
  }

  public Health getHealth() {
    return health;
  }

  @Override
  public void afterPropertiesSet() {
    retry.check();
  }

  /** Where the outbox table lives. */
  public static class Table {

    /** Table name: a lower-case SQL identifier. */
    private String name = TableName.DEFAULT_TABLE;

    /** Schema of the table; unset means the connection's search path. */
    private @Nullable String schema;

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public @Nullable String getSchema() {
      return schema;
    }

    public void setSchema(@Nullable String schema) {
      this.schema = schema;
    }
  }

  /** The library's own schema migrations (Flyway, own history table). */
  public static class Migration {

    /** Whether to create or upgrade the outbox table at startup; off checks it exists instead. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** The relay that publishes committed events. */
  public static class Relay {

    /**
     * {@code ex}, which the relay's builder threw, naming the {@code outbox.relay.*} property that
     * holds the setting (a customizer may have set it instead), in the form of the other settings'
     * errors. The rule and the value are the same, so it stands in for {@code ex} rather than
     * wrapping it: the root cause a failed startup reports names the property.
     */
    RuntimeException invalid(InvalidRelaySettingException ex, boolean customized) {
      String property =
          switch (ex.setting()) {
            case "batchSize" -> "batch-size";
            case "workers" -> "workers";
            case "pollInterval" -> "poll-interval";
            case "publishTimeout" -> "publish-timeout";
            case "leaseTimeout" -> "lease-timeout";
            case "maxErrorBackoff" -> "max-error-backoff";
            default -> null;
          };
      if (property == null) {
        return ex;
      }
      return new OutboxException(
          "Invalid outbox setting: outbox.relay."
              + property
              + (customized ? " (or the value an OutboxCustomizer set)" : "")
              + " "
              + ex.rule());
    }

    /** Whether this instance runs a relay (it needs a transport: outbox-kafka or outbox-rabbit). */
    private boolean enabled = true;

    /** Events read and published per batch, per worker. */
    private int batchSize = OutboxDefaults.BATCH_SIZE;

    /**
     * Relay workers, each publishing from its own share of the instance's slots: under a backlog
     * one reads or completes in the database while another awaits the broker.
     */
    private int workers = OutboxDefaults.WORKERS;

    public int getWorkers() {
      return workers;
    }

    public void setWorkers(int workers) {
      this.workers = workers;
    }

    /**
     * How often the relay renews its slot leases; the renewal also finds events the relay was not
     * woken up for. A killed instance's slots move to the others within about this time.
     */
    private Duration pollInterval = OutboxDefaults.POLL_INTERVAL;

    /**
     * How long a batch may take from its first send to the last broker acknowledgement; events not
     * acknowledged by then are tried again (charged an attempt only if sent at the batch's start).
     * Must be at least twice the transport's longest blocking send (Kafka's max.block.ms).
     */
    private Duration publishTimeout = OutboxDefaults.PUBLISH_TIMEOUT;

    /**
     * How long a relay instance keeps its slots without renewing them: the longest the keys of a
     * frozen (not killed) instance wait before another instance takes over. At least three poll
     * intervals. Unset: 10 s, or three poll intervals if that is longer.
     */
    private @Nullable Duration leaseTimeout;

    public @Nullable Duration getLeaseTimeout() {
      return leaseTimeout;
    }

    public void setLeaseTimeout(@Nullable Duration leaseTimeout) {
      this.leaseTimeout = leaseTimeout;
    }

    /**
     * Level of the relay's one log line per batch whose events failed and will be retried (a
     * transient failure; nothing is lost). Final failures are logged at ERROR.
     */
    private Level transientFailureLogLevel = OutboxDefaults.TRANSIENT_FAILURE_LOG_LEVEL;

    public Level getTransientFailureLogLevel() {
      return transientFailureLogLevel;
    }

    public void setTransientFailureLogLevel(Level transientFailureLogLevel) {
      this.transientFailureLogLevel = transientFailureLogLevel;
    }

    /**
     * The longest pause of a relay worker after the database, the broker or the relay itself
     * failed; the pause starts at 100 ms and doubles up to this, as does the closure of a
     * destination that refuses events on its own (from 1 s). It bounds how long the relay takes to
     * resume once the failure is over.
     */
    private Duration maxErrorBackoff = OutboxDefaults.MAX_ERROR_BACKOFF;

    public Duration getMaxErrorBackoff() {
      return maxErrorBackoff;
    }

    public void setMaxErrorBackoff(Duration maxErrorBackoff) {
      this.maxErrorBackoff = maxErrorBackoff;
    }

    /** How long shutdown waits for the batch in flight. */
    private Duration shutdownTimeout = OutboxDefaults.SHUTDOWN_TIMEOUT;

    /**
     * Whether a dead event holds back the later events of its key until it is replayed or
     * discarded. Off: the key continues with its next event.
     */
    private boolean deadEventBlocksKey = OutboxDefaults.DEAD_EVENT_BLOCKS_KEY;

    /**
     * Whether relays of other instances are woken through LISTEN/NOTIFY (sent outside business
     * transactions, at most every 20 ms) when a commit writes to slots this instance's relay does
     * not hold (every slot, for an instance without a relay), when the outbox endpoint replays dead
     * events, or when a backlog builds up. Off: such an event waits for its slot holder's next
     * poll.
     */
    private boolean notify = true;

    public boolean isNotify() {
      return notify;
    }

    public void setNotify(boolean notify) {
      this.notify = notify;
    }

    public boolean isDeadEventBlocksKey() {
      return deadEventBlocksKey;
    }

    public void setDeadEventBlocksKey(boolean deadEventBlocksKey) {
      this.deadEventBlocksKey = deadEventBlocksKey;
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public int getBatchSize() {
      return batchSize;
    }

    public void setBatchSize(int batchSize) {
      this.batchSize = batchSize;
    }

    public Duration getPollInterval() {
      return pollInterval;
    }

    public void setPollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
    }

    public Duration getPublishTimeout() {
      return publishTimeout;
    }

    public void setPublishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
    }

    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    public void setShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
    }
  }

  /** Retries of failed deliveries. */
  public static class Retry {

    /** Delivery attempts before an event is dead-lettered. */
    private int maxAttempts = OutboxDefaults.MAX_ATTEMPTS;

    /** Pause after the first failed attempt. */
    private Duration initialBackoff = OutboxDefaults.INITIAL_BACKOFF;

    /** Growth of the pause per failed attempt. */
    private double multiplier = OutboxDefaults.BACKOFF_MULTIPLIER;

    /** The longest pause between attempts. */
    private Duration maxBackoff = OutboxDefaults.MAX_BACKOFF;

    /** Random spread of each pause as a fraction of it (0.2 = plus or minus 20 %). */
    private double jitter = OutboxDefaults.JITTER;

    /** Age after which a failing event is dead-lettered whatever its attempts; 0 means never. */
    private Duration maxAge = OutboxDefaults.MAX_AGE;

    public RetryPolicy toPolicy() {
      return new RetryPolicy(maxAttempts, initialBackoff, multiplier, maxBackoff, jitter, maxAge);
    }

    /** Fails naming the first property out of range. */
    void check() {
      require(maxAttempts >= 1, "max-attempts", maxAttempts, "at least 1");
      require(isNotNegative(initialBackoff), "initial-backoff", initialBackoff, "0 or more");
      require(
          isNotNegative(maxBackoff) && maxBackoff.compareTo(initialBackoff) >= 0,
          "max-backoff",
          maxBackoff,
          "at least outbox.retry.initial-backoff (" + initialBackoff + ")");
      require(multiplier >= 1.0, "multiplier", multiplier, "at least 1");
      require(jitter >= 0.0 && jitter <= 1.0, "jitter", jitter, "between 0 and 1");
      require(isNotNegative(maxAge), "max-age", maxAge, "0 (no limit) or more");
    }

    private static boolean isNotNegative(@Nullable Duration duration) {
      return duration != null && !duration.isNegative();
    }

    private static void require(
        boolean valid, String property, @Nullable Object value, String rule) {
      if (!valid) {
        throw new OutboxException(
            "Invalid outbox setting: outbox.retry."
                + property
                + " must be "
                + rule
                + ", was "
                + value);
      }
    }

    public int getMaxAttempts() {
      return maxAttempts;
    }

    public void setMaxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    public Duration getInitialBackoff() {
      return initialBackoff;
    }

    public void setInitialBackoff(Duration initialBackoff) {
      this.initialBackoff = initialBackoff;
    }

    public double getMultiplier() {
      return multiplier;
    }

    public void setMultiplier(double multiplier) {
      this.multiplier = multiplier;
    }

    public Duration getMaxBackoff() {
      return maxBackoff;
    }

    public void setMaxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
    }

    public double getJitter() {
      return jitter;
    }

    public void setJitter(double jitter) {
      this.jitter = jitter;
    }

    public Duration getMaxAge() {
      return maxAge;
    }

    public void setMaxAge(Duration maxAge) {
      this.maxAge = maxAge;
    }
  }

  /** Change-data-capture mode, for handing publishing over to Debezium. */
  public static class Cdc {

    /**
     * Each event is deleted again in the transaction that wrote it, so a CDC pipeline (Debezium's
     * outbox event router) publishes it from the write-ahead log; no relay runs in this mode.
     */
    private boolean enabled = false;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** Dead events kept in the table. */
  public static class Dead {

    /**
     * How long dead events are kept after they were dead-lettered; older ones are deleted. Unset
     * (the default): kept until replayed or discarded. At least one hour.
     */
    private @Nullable Duration retention;

    /** How often each instance looks for dead events past their retention (one at a time). */
    private Duration purgeInterval = OutboxDefaults.DEAD_PURGE_INTERVAL;

    /** Dead events deleted per statement by the retention. */
    private int purgeBatchSize = OutboxDefaults.DEAD_PURGE_BATCH_SIZE;

    public @Nullable Duration getRetention() {
      return retention;
    }

    public void setRetention(@Nullable Duration retention) {
      this.retention = retention;
    }

    public Duration getPurgeInterval() {
      return purgeInterval;
    }

    public void setPurgeInterval(Duration purgeInterval) {
      this.purgeInterval = purgeInterval;
    }

    public int getPurgeBatchSize() {
      return purgeBatchSize;
    }

    public void setPurgeBatchSize(int purgeBatchSize) {
      this.purgeBatchSize = purgeBatchSize;
    }
  }

  /** The health indicator. */
  public static class Health {

    /** The oldest pending event being older than this is a problem. */
    private Duration maxPendingAge = OutboxDefaults.HEALTH_MAX_PENDING_AGE;

    /** More dead events than this is a problem; unset: no limit. */
    private @Nullable Long maxDead;

    /**
     * The status reported while a threshold above is crossed: UP (problems only in the details),
     * DOWN or OUT_OF_SERVICE.
     */
    private String problemStatus = OutboxDefaults.HEALTH_PROBLEM_STATUS;

    /**
     * The status reported while the relay is failing (database or broker unreachable): DOWN, UP or
     * OUT_OF_SERVICE.
     */
    private String relayFailureStatus = OutboxDefaults.HEALTH_RELAY_FAILURE_STATUS;

    public String getRelayFailureStatus() {
      return relayFailureStatus;
    }

    public void setRelayFailureStatus(String relayFailureStatus) {
      this.relayFailureStatus = relayFailureStatus;
    }

    /** How long a reading of the table is reused, so frequent probes do not query each time. */
    private Duration cacheTimeToLive = OutboxDefaults.HEALTH_CACHE_TIME_TO_LIVE;

    public Duration getMaxPendingAge() {
      return maxPendingAge;
    }

    public void setMaxPendingAge(Duration maxPendingAge) {
      this.maxPendingAge = maxPendingAge;
    }

    public @Nullable Long getMaxDead() {
      return maxDead;
    }

    public void setMaxDead(@Nullable Long maxDead) {
      this.maxDead = maxDead;
    }

    public String getProblemStatus() {
      return problemStatus;
    }

    public void setProblemStatus(String problemStatus) {
      this.problemStatus = problemStatus;
    }

    public Duration getCacheTimeToLive() {
      return cacheTimeToLive;
    }

    public void setCacheTimeToLive(Duration cacheTimeToLive) {
      this.cacheTimeToLive = cacheTimeToLive;
    }
  }
}
