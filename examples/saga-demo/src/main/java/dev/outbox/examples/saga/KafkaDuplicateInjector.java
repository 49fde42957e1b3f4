package dev.outbox.examples.saga;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jspecify.annotations.Nullable;

/**
 * Reads every message of the saga's Kafka topics and publishes each one a second time to the same
 * partition — same key, same body, same headers, so the same {@code ce_id}. The copy lands after
 * the original, so the original is always handled first.
 */
final class KafkaDuplicateInjector implements DuplicateInjector {

  private final KafkaConsumer<String, String> consumer;
  private final KafkaProducer<String, String> producer;
  private final SagaTrace trace;
  private final Set<String> copied = ConcurrentHashMap.newKeySet();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile @Nullable Throwable failure;

  KafkaDuplicateInjector(String bootstrapServers, List<String> topics, SagaTrace trace) {
    this.trace = trace;
    this.consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG, "saga-demo-duplicate-injector",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true"),
            new StringDeserializer(),
            new StringDeserializer());
    this.producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, "0"),
            new StringSerializer(),
            new StringSerializer());
    consumer.subscribe(topics);
    this.thread = new Thread(this::poll, "saga-demo-duplicate-injector");
    thread.setDaemon(true);
    thread.start();
  }

  private void poll() {
    try {
      while (running) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
          if (record.headers().lastHeader(MARKER) != null) {
            continue;
          }
          String id = header(record, "ce_id");
          if (id == null || !copied.add(id)) {
            continue;
          }
          SagaTrace.Published original =
              new SagaTrace.Published(
                  id,
                  String.valueOf(header(record, "ce_type")),
                  String.valueOf(record.key()),
                  record.topic() + "-" + record.partition() + "@" + record.offset(),
                  String.valueOf(record.value()));
          trace.published(original);
          ProducerRecord<String, String> copy =
              new ProducerRecord<>(
                  record.topic(),
                  record.partition(),
                  record.key(),
                  record.value(),
                  new RecordHeaders(record.headers().toArray()));
          copy.headers().add(MARKER, "true".getBytes(StandardCharsets.UTF_8));
          producer.send(
              copy,
              (metadata, ex) -> {
                if (ex != null) {
                  failure = ex;
                } else {
                  trace.duplicateSent(
                      original,
                      metadata.topic() + "-" + metadata.partition() + "@" + metadata.offset());
                }
              });
        }
      }
    } catch (WakeupException ex) {
      // closing
    } catch (RuntimeException ex) {
      failure = ex;
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  @Override
  public @Nullable Throwable failure() {
    return failure;
  }

  private static @Nullable String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      thread.join(10_000);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
  }
}
