package dev.outbox.kafka.multi;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A plain Kafka consumer reading a topic from the beginning on a thread of its own, for as long as
 * the test runs. Keeps every record in the order it was read: per partition, that is the order in
 * the log, so per key (a key maps to one partition) it is the publish order.
 */
public final class TopicTail implements AutoCloseable {

  /** What the tests need of a record. */
  public record Received(
      String key,
      String value,
      UUID id,
      String source,
      long timestamp,
      int partition,
      long offset) {}

  private final KafkaConsumer<String, String> consumer;
  private final Thread thread;
  private final List<Received> received = new ArrayList<>();
  private volatile boolean running = true;
  private volatile RuntimeException failure;

  private TopicTail(String bootstrapServers, String topic) {
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumer = new KafkaConsumer<>(config);
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
            .map(info -> new TopicPartition(topic, info.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    thread = new Thread(this::run, "tail-" + topic);
    thread.setDaemon(true);
  }

  public static TopicTail start(String bootstrapServers, String topic) {
    TopicTail tail = new TopicTail(bootstrapServers, topic);
    tail.thread.start();
    return tail;
  }

  private void run() {
    try {
      while (running) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          Received r =
              new Received(
                  record.key(),
                  record.value(),
                  UUID.fromString(header(record, "ce_id")),
                  header(record, "ce_source"),
                  record.timestamp(),
                  record.partition(),
                  record.offset());
          synchronized (received) {
            received.add(r);
          }
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

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    if (header == null) {
      throw new IllegalStateException(
          "record at " + record.partition() + "/" + record.offset() + " has no " + name);
    }
    return new String(header.value(), StandardCharsets.UTF_8);
  }

  /** A copy of everything read so far, in reading order. */
  public List<Received> received() {
    if (failure != null) {
      throw new IllegalStateException("the consumer failed: " + failure.getMessage(), failure);
    }
    synchronized (received) {
      return List.copyOf(received);
    }
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
  }
}
