package dev.outbox.inbox.spring;

import dev.outbox.OutboxException;
import dev.outbox.inbox.InboxDefaults;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** The {@code outbox.inbox.*} properties. Every default is a constant of {@link InboxDefaults}. */
@ConfigurationProperties("outbox.inbox")
public class InboxProperties {

  /** Whether the inbox is auto-configured. */
  private boolean enabled = true;

  /**
   * How long a handled message id is kept; a redelivery older than this is handled again. Keep it
   * longer than the broker can redeliver (Kafka: the topic's retention).
   */
  private Duration retention = InboxDefaults.RETENTION;

  /** How often ids older than the retention are deleted. */
  private Duration cleanupInterval = InboxDefaults.CLEANUP_INTERVAL;

  /** Rows deleted per statement while cleaning up (1-100,000). */
  private int cleanupBatchSize = InboxDefaults.CLEANUP_BATCH_SIZE;

  private final Table table = new Table();
  private final Migration migration = new Migration();

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public Duration getRetention() {
    return retention;
  }

  public void setRetention(Duration retention) {
    if (retention.isNegative() || retention.isZero()) {
      throw new OutboxException("outbox.inbox.retention must be positive; got " + retention);
    }
    this.retention = retention;
  }

  public Duration getCleanupInterval() {
    return cleanupInterval;
  }

  public void setCleanupInterval(Duration cleanupInterval) {
    if (cleanupInterval.toMillis() < 1) {
      throw new OutboxException(
          "outbox.inbox.cleanup-interval must be at least 1ms; got " + cleanupInterval);
    }
    this.cleanupInterval = cleanupInterval;
  }

  public int getCleanupBatchSize() {
    return cleanupBatchSize;
  }

  public void setCleanupBatchSize(int cleanupBatchSize) {
    if (cleanupBatchSize < 1 || cleanupBatchSize > 100_000) {
      throw new OutboxException(
          "outbox.inbox.cleanup-batch-size must be between 1 and 100000; got " + cleanupBatchSize);
    }
    this.cleanupBatchSize = cleanupBatchSize;
  }

  public Table getTable() {
    return table;
  }

  public Migration getMigration() {
    return migration;
  }

  /** Where the inbox table lives. */
  public static class Table {

    /** Table name: a lower-case SQL identifier. */
    private String name = InboxDefaults.TABLE;

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

  /** The inbox's own schema migrations (Flyway, own history table). */
  public static class Migration {

    /** Whether to create or upgrade the inbox table at startup; off checks it exists instead. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }
}
