package dev.outbox.kafka.autoconfigure;

import dev.outbox.kafka.KafkaOutboxDefaults;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Settings of the Kafka transport ({@code outbox.kafka.*}). Broker connections are Spring Boot's
 * own {@code spring.kafka.*} settings; there is no second set here.
 */
@ConfigurationProperties("outbox.kafka")
public class OutboxKafkaProperties {

  /** Whether to publish outbox events to Kafka when Spring Kafka is on the classpath. */
  private boolean enabled = KafkaOutboxDefaults.ENABLED;

  /**
   * Appended to a topic name to name its dead-letter topic. The default is Spring Kafka's own
   * dead-letter suffix.
   */
  private String deadLetterSuffix = KafkaOutboxDefaults.DEAD_LETTER_SUFFIX;

  /**
   * CloudEvents 'source' attribute (ce_source header) of every record: a URI reference, such as
   * 'order-service' or '/shop/orders'. Defaults to spring.application.name (percent-encoded where
   * it is not a URI reference), or 'outbox' when that is not set either.
   */
  private @Nullable String source;

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getDeadLetterSuffix() {
    return deadLetterSuffix;
  }

  public void setDeadLetterSuffix(String deadLetterSuffix) {
    this.deadLetterSuffix = deadLetterSuffix;
  }

  public @Nullable String getSource() {
    return source;
  }

  public void setSource(@Nullable String source) {
    this.source = source;
  }
}
