package dev.outbox.kafka;

import dev.outbox.transport.CloudEventSource;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Settings of the Kafka transport that are not connection settings (those come from {@code
 * spring.kafka.*}). Immutable: start from {@link #defaults()} and change with the {@code withX}
 * methods.
 *
 * @param source the CloudEvents {@code source} of every record, e.g. the application name: a URI
 *     reference ({@link CloudEventSource#check})
 * @param deadLetterSuffix appended to a topic name to name its dead-letter topic
 */
public record KafkaTransportOptions(String source, String deadLetterSuffix) {

  private static final Pattern TOPIC_CHARS = Pattern.compile("[a-zA-Z0-9._-]+");

  public KafkaTransportOptions {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(deadLetterSuffix, "deadLetterSuffix");
    CloudEventSource.check(source);
    if (!TOPIC_CHARS.matcher(deadLetterSuffix).matches()) {
      throw new IllegalArgumentException(
          "deadLetterSuffix must be one or more of a-z, A-Z, 0-9, '.', '_' and '-', was '"
              + deadLetterSuffix
              + "'");
    }
  }

  public static KafkaTransportOptions defaults() {
    return new KafkaTransportOptions(
        KafkaOutboxDefaults.SOURCE, KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
  }

  public KafkaTransportOptions withSource(String source) {
    return new KafkaTransportOptions(source, deadLetterSuffix);
  }

  public KafkaTransportOptions withDeadLetterSuffix(String deadLetterSuffix) {
    return new KafkaTransportOptions(source, deadLetterSuffix);
  }
}
