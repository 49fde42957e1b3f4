package dev.outbox.kafka;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;

/**
 * Publishes outbox events to Kafka: the record key is the event key, the value the JSON payload,
 * and the event attributes travel as CloudEvents binary-mode headers ({@link CloudEventHeaders}).
 * Dead letters go to the topic name plus a suffix ({@code -dlt} by default) with {@link
 * DeadLetterHeaders}.
 *
 * <p>Build it with {@link #create(ProducerFactory, KafkaTransportOptions)} from the application's
 * producer factory (Spring Boot's, configured by {@code spring.kafka.*}): the transport makes a
 * producer of its own from that configuration with {@code acks=all} and idempotence forced (see
 * {@code docs/kafka.md}), and closes it in {@link #close()}.
 *
 * <p>Sends never wait for the broker: {@link #send} returns once the record is handed to the
 * producer. A send failure is reported through the future, unwrapped to the Kafka client's own
 * exception, so that logs, the outbox table and dead letters name the real cause.
 */
public final class KafkaOutboxTransport implements OutboxTransport, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KafkaOutboxTransport.class);

  /** The Kafka client's own {@code max.block.ms} when nothing sets it. */
  private static final long KAFKA_DEFAULT_MAX_BLOCK_MS = 60_000;

  private final KafkaTemplate<String, String> template;
  private final KafkaTransportOptions options;
  private final @Nullable DefaultKafkaProducerFactory<String, String> ownedFactory;
  private final UnavailableTopics unavailableTopics =
      new UnavailableTopics(KafkaOutboxDefaults.UNAVAILABLE_TOPIC_QUIET_PERIOD);
  private final Flusher flusher;

  /**
   * A transport on a template the caller configured and owns (it is not closed by {@link
   * #close()}). The template's producer should use {@code acks=all} and idempotence.
   */
  public KafkaOutboxTransport(
      KafkaTemplate<String, String> template, KafkaTransportOptions options) {
    this(template, options, null);
  }

  private KafkaOutboxTransport(
      KafkaTemplate<String, String> template,
      KafkaTransportOptions options,
      @Nullable DefaultKafkaProducerFactory<String, String> ownedFactory) {
    this.template = Objects.requireNonNull(template, "template");
    this.options = Objects.requireNonNull(options, "options");
    this.ownedFactory = ownedFactory;
    this.flusher = new Flusher(template::flush);
  }

  /**
   * A transport with a producer of its own, configured like {@code applicationFactory} (the same
   * brokers, security and tuning) with the settings the outbox relies on forced.
   */
  public static KafkaOutboxTransport create(
      ProducerFactory<?, ?> applicationFactory, KafkaTransportOptions options) {
    Objects.requireNonNull(applicationFactory, "applicationFactory");
    return create(applicationFactory.getConfigurationProperties(), options);
  }

  /**
   * A transport with a producer of its own, configured from {@code producerConfig} (Kafka producer
   * settings) with the settings the outbox relies on forced.
   */
  public static KafkaOutboxTransport create(
      Map<String, Object> producerConfig, KafkaTransportOptions options) {
    Map<String, Object> config = ProducerSettings.derive(producerConfig);
    DefaultKafkaProducerFactory<String, String> factory =
        new DefaultKafkaProducerFactory<>(config, new StringSerializer(), new StringSerializer());
    KafkaTemplate<String, String> template = new KafkaTemplate<>(factory);
    // The relay logs each failure once with the event id; the template would log it again.
    template.setProducerListener(null);
    return new KafkaOutboxTransport(template, options, factory);
  }

  /** The settings of the producer this transport sends with. */
  public Map<String, Object> producerConfiguration() {
    return template.getProducerFactory().getConfigurationProperties();
  }

  public KafkaTransportOptions options() {
    return options;
  }

  @Override
  public CompletableFuture<?> send(OutboxEvent event) {
    Headers headers = CloudEventHeaders.of(event, options.source());
    return send(
        new ProducerRecord<>(event.destination(), null, event.key(), event.payload(), headers));
  }

  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    boolean omitPayload = KafkaFailures.isTooLarge(deadLetter.errorClass());
    CompletableFuture<?> sent = send(deadLetterRecord(event, deadLetter, omitPayload));
    if (omitPayload) {
      return sent;
    }
    return sent.handle(
            (result, failure) -> {
              if (failure == null) {
                return CompletableFuture.completedFuture(result);
              }
              if (KafkaFailures.isTooLarge(failure)) {
                log.warn(
                    "Dead letter of event {} is too large for {}; sending it without the payload,"
                        + " which stays in the outbox table",
                    event.id(),
                    deadLetterDestination(event));
                return send(deadLetterRecord(event, deadLetter, true));
              }
              return CompletableFuture.failedFuture(failure);
            })
        .thenCompose(future -> future);
  }

  private ProducerRecord<String, String> deadLetterRecord(
      OutboxEvent event, DeadLetter deadLetter, boolean omitPayload) {
    Headers headers = CloudEventHeaders.of(event, options.source());
    CloudEventHeaders.add(headers, DeadLetterHeaders.ORIGINAL_TOPIC, event.destination());
    CloudEventHeaders.add(headers, DeadLetterHeaders.ERROR, deadLetter.error());
    CloudEventHeaders.add(headers, DeadLetterHeaders.ERROR_CLASS, deadLetter.errorClass());
    CloudEventHeaders.add(
        headers, DeadLetterHeaders.ATTEMPTS, Integer.toString(deadLetter.attempts()));
    if (omitPayload) {
      CloudEventHeaders.add(headers, DeadLetterHeaders.PAYLOAD_OMITTED, "true");
    }
    return new ProducerRecord<>(
        deadLetterDestination(event),
        null,
        event.key(),
        omitPayload ? null : event.payload(),
        headers);
  }

  private CompletableFuture<?> send(ProducerRecord<String, String> record) {
    TimeoutException quiet = unavailableTopics.check(record.topic());
    if (quiet != null) {
      return CompletableFuture.failedFuture(quiet);
    }
    CompletableFuture<RecordMetadata> acknowledged = new CompletableFuture<>();
    try {
      // The producer itself, not the template: one callback and one future per record.
      Future<RecordMetadata> sent =
          producer()
              .send(
                  record,
                  (metadata, failure) -> {
                    if (failure == null) {
                      acknowledged.complete(metadata);
                    } else {
                      acknowledged.completeExceptionally(KafkaFailures.unwrap(failure));
                    }
                  });
      if (sent.isDone() && acknowledged.isCompletedExceptionally()) {
        // Failed at once: metadata or buffer space not available within max.block.ms, a record
        // too large for max.request.size, ...
        acknowledged.exceptionally(
            failure -> {
              if (failure instanceof TimeoutException) {
                unavailableTopics.markUnavailable(record.topic());
              }
              return null;
            });
      }
      return acknowledged;
    } catch (RuntimeException ex) {
      Throwable cause = KafkaFailures.unwrap(ex);
      if (cause instanceof TimeoutException) {
        unavailableTopics.markUnavailable(record.topic());
      }
      return CompletableFuture.failedFuture(cause);
    }
  }

  /** The factory's shared producer (created on first use, re-created after a fatal error). */
  private Producer<String, String> producer() {
    return template.getProducerFactory().createProducer();
  }

  @Override
  public boolean isRetryable(Throwable failure) {
    return KafkaFailures.isRetryable(failure);
  }

  /** Makes the records handed over so far sendable at once, without waiting here. */
  @Override
  public void flush() {
    flusher.request();
  }

  /**
   * A timeout (the producer's, or the relay's wait for the acknowledgement) or a lost connection
   * while the producer has no connection to any broker: the cluster is down or unreachable, as
   * opposed to one topic missing (then the producer is connected and the event is charged an
   * attempt as usual).
   */
  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    Throwable cause = KafkaFailures.unwrap(failure);
    if (!(cause instanceof TimeoutException
        || cause instanceof java.util.concurrent.TimeoutException
        || cause instanceof org.apache.kafka.common.errors.NetworkException)) {
      return false;
    }
    for (var metric : template.metrics().entrySet()) {
      if ("connection-count".equals(metric.getKey().name())
          && "producer-metrics".equals(metric.getKey().group())
          && metric.getValue().metricValue() instanceof Number count) {
        return count.doubleValue() < 1;
      }
    }
    return false;
  }

  /** The producer's {@code max.block.ms}: how long a send may wait for metadata or buffer space. */
  @Override
  public Duration maxBlock() {
    Object configured =
        template
            .getProducerFactory()
            .getConfigurationProperties()
            .get(ProducerConfig.MAX_BLOCK_MS_CONFIG);
    long millis =
        configured == null
            ? KAFKA_DEFAULT_MAX_BLOCK_MS
            : Long.parseLong(configured.toString().trim());
    return Duration.ofMillis(millis);
  }

  @Override
  public String deadLetterDestination(OutboxEvent event) {
    return event.destination() + options.deadLetterSuffix();
  }

  /** Closes the producer this transport created; a template passed in is left alone. */
  @Override
  public void close() {
    flusher.close();
    if (ownedFactory != null) {
      ownedFactory.destroy();
    }
  }
}
