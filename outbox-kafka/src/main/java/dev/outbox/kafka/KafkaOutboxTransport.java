package dev.outbox.kafka;

import dev.outbox.OutboxEvent;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.BufferExhaustedException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
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
  private final UnavailableTopics unavailableTopics;
  private final Rejections rejections;
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
    this.rejections = new Rejections(maxBlock().multipliedBy(2).plusSeconds(1));
    this.unavailableTopics =
        new UnavailableTopics(
            topic -> {
              try {
                return !producer().partitionsFor(topic).isEmpty();
              } catch (RuntimeException ex) {
                rejections.note(topic, ex);
                throw ex;
              }
            },
            KafkaOutboxDefaults.UNAVAILABLE_TOPIC_PROBE_PAUSE,
            KafkaOutboxDefaults.UNAVAILABLE_TOPIC_FORGET_AFTER);
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

  /**
   * Sends the dead letter. A failure that lies with the dead-letter topic or the cluster (the topic
   * does not exist, the client may not write it, the cluster is away) ends the future with a {@link
   * DeadLetterNotSentException}, which {@link #isBrokerUnavailable} reports as unavailable: the
   * relay keeps the event as it was rather than mark it {@code DEAD} without its dead letter. A
   * failure the record itself causes (the dead-letter topic name is invalid, the record is invalid
   * for it) is reported as it is.
   */
  @Override
  public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
    String topic = deadLetterDestination(event);
    boolean omitPayload = KafkaFailures.isTooLarge(deadLetter.errorClass());
    CompletableFuture<?> sent = send(deadLetterRecord(event, deadLetter, omitPayload));
    if (!omitPayload) {
      sent =
          sent.handle(
                  (result, failure) -> {
                    if (failure == null) {
                      return CompletableFuture.completedFuture(result);
                    }
                    if (KafkaFailures.isTooLarge(failure)) {
                      log.warn(
                          "Dead letter of event {} is too large for {}; sending it without the"
                              + " payload, which stays in the outbox table",
                          event.id(),
                          topic);
                      return send(deadLetterRecord(event, deadLetter, true));
                    }
                    return CompletableFuture.failedFuture(failure);
                  })
              .thenCompose(future -> future);
    }
    return sent.exceptionallyCompose(
        failure -> {
          Throwable cause = KafkaFailures.unwrap(failure);
          return CompletableFuture.failedFuture(
              KafkaFailures.isCausedByRecord(cause)
                  ? cause
                  : new DeadLetterNotSentException(topic, cause));
        });
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
    String topic = record.topic();
    TopicNotAvailableException unavailable = unavailableTopics.check(topic);
    if (unavailable != null) {
      return CompletableFuture.failedFuture(explained(topic, unavailable));
    }
    CompletableFuture<RecordMetadata> acknowledged = new CompletableFuture<>();
    Throwable failedAtOnce;
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
                      Throwable cause = KafkaFailures.unwrap(failure);
                      rejections.note(topic, cause);
                      acknowledged.completeExceptionally(cause);
                    }
                  });
      if (!sent.isDone() || !acknowledged.isCompletedExceptionally()) {
        return acknowledged;
      }
      // Failed at once: no metadata or buffer space within max.block.ms, a record too large for
      // max.request.size, credentials or permission rejected, ...
      failedAtOnce = acknowledged.handle((ignored, failure) -> failure).join();
    } catch (RuntimeException ex) {
      failedAtOnce = KafkaFailures.unwrap(ex);
      rejections.note(topic, failedAtOnce);
    }
    if (failedAtOnce instanceof TimeoutException
        && !(failedAtOnce instanceof BufferExhaustedException)) {
      // The client waited max.block.ms for the topic's metadata: missing topic, no broker, or a
      // rejection that the client reported to another thread waiting at the same time.
      unavailableTopics.markUnavailable(topic, failedAtOnce.getMessage());
      return CompletableFuture.failedFuture(
          explained(topic, new TopicNotAvailableException(topic, failedAtOnce.getMessage())));
    }
    return CompletableFuture.failedFuture(failedAtOnce);
  }

  /** The rejection of the credentials or the permission that explains a missing topic, if any. */
  private Throwable explained(String topic, TopicNotAvailableException unavailable) {
    RuntimeException rejection = rejections.explain(topic);
    return rejection == null ? unavailable : rejection;
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
   * Whether the failure lies with the cluster, the credentials or the permissions rather than with
   * the event (see {@link KafkaFailures#isSystemic}), or is a dead letter that the dead-letter
   * topic could not take ({@link DeadLetterNotSentException}): the relay then charges no attempt,
   * marks nothing {@code DEAD}, backs off and reports itself unhealthy with the cause.
   *
   * <p>A topic missing from the metadata ({@link TopicNotAvailableException}) is the event's
   * failure (charged as usual) only when the cluster evidently said so: the producer is connected
   * and its metadata was refreshed within the last three quarters of {@code max.block.ms} (while a
   * send waits for a topic, the client asks for metadata about once a second, and a cluster that
   * answers keeps it fresh). Otherwise no broker answered (down, hung, unreachable) or the
   * credentials or the permission for the topic were rejected lately ({@link Rejections}), and the
   * failure is the cluster's.
   */
  @Override
  public boolean isBrokerUnavailable(Throwable failure) {
    Throwable cause = KafkaFailures.unwrap(failure);
    if (cause instanceof TopicNotAvailableException missing) {
      return !clusterAnswering() || rejections.explain(missing.topic()) != null;
    }
    return KafkaFailures.isSystemic(cause);
  }

  /**
   * Whether the failure concerns one topic only while the others may take events: its write
   * permission was refused ({@link TopicAuthorizationException}, or a wait for its metadata that
   * such a refusal explains), or it is a dead letter whose topic may not be written or is missing
   * while the cluster answers. The relay then holds back the keys of that topic's pending events
   * for a while and publishes the others meanwhile. Rejected credentials, a cluster-wide refusal
   * and a cluster that does not answer concern every topic, and are not.
   */
  @Override
  public boolean isDestinationUnavailable(Throwable failure) {
    Throwable cause = KafkaFailures.unwrap(failure);
    if (cause instanceof DeadLetterNotSentException notSent && notSent.getCause() != null) {
      Throwable reason = KafkaFailures.unwrap(notSent.getCause());
      return refusesTopic(reason)
          || (reason instanceof TopicNotAvailableException && !isBrokerUnavailable(reason));
    }
    return refusesTopic(cause);
  }

  private boolean refusesTopic(Throwable cause) {
    if (cause instanceof TopicNotAvailableException missing) {
      return rejections.explain(missing.topic()) instanceof TopicAuthorizationException;
    }
    return cause instanceof TopicAuthorizationException;
  }

  /** Whether the producer has a connection and its metadata is fresh (see above). */
  private boolean clusterAnswering() {
    Double connections = producerMetric("connection-count");
    if (connections != null && connections < 1) {
      return false;
    }
    Double metadataAgeSeconds = producerMetric("metadata-age");
    return metadataAgeSeconds == null
        || metadataAgeSeconds * 1000 < maxBlock().toMillis() * 3 / 4.0;
  }

  private @Nullable Double producerMetric(String name) {
    for (var metric : template.metrics().entrySet()) {
      if (name.equals(metric.getKey().name())
          && "producer-metrics".equals(metric.getKey().group())
          && metric.getValue().metricValue() instanceof Number value) {
        return value.doubleValue();
      }
    }
    return null;
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
    unavailableTopics.close();
    if (ownedFactory != null) {
      ownedFactory.destroy();
    }
  }
}
