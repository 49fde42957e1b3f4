package dev.outbox.examples.order.demo;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.ConsumerFactory;

/**
 * A plain Kafka consumer (no listener container, no consumer group) that reads every partition of
 * the topic from the end as it was at startup, and hands each record to {@link ReceivedEvents}.
 */
public final class KafkaDemoConsumer implements DemoConsumer, SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(KafkaDemoConsumer.class);

  /** The CloudEvents headers shown, in this order. */
  static final List<String> SHOWN_HEADERS = List.of("ce_id", "ce_type", "ce_source", "ce_time");

  private final ConsumerFactory<?, ?> consumerFactory;
  private final String topic;
  private final ReceivedEvents events;
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile @Nullable Consumer<String, String> consumer;
  private volatile @Nullable Thread thread;
  private volatile boolean running;

  public KafkaDemoConsumer(
      ConsumerFactory<?, ?> consumerFactory, String topic, ReceivedEvents events) {
    this.consumerFactory = consumerFactory;
    this.topic = topic;
    this.events = events;
  }

  @Override
  public String description() {
    return "Kafka topic \"" + topic + "\"";
  }

  @Override
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void start() {
    Properties overrides = new Properties();
    overrides.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    overrides.put(
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    overrides.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    @SuppressWarnings("unchecked")
    Consumer<String, String> created =
        (Consumer<String, String>)
            consumerFactory.createConsumer(null, "order-service-demo", null, overrides);
    consumer = created;
    running = true;
    Thread poller = new Thread(() -> poll(created), "demo-kafka-consumer");
    poller.setDaemon(true);
    thread = poller;
    poller.start();
  }

  private void poll(Consumer<String, String> kafka) {
    try {
      List<TopicPartition> partitions =
          kafka.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(info.topic(), info.partition()))
              .toList();
      kafka.assign(partitions);
      kafka.seekToEnd(partitions);
      partitions.forEach(kafka::position);
      ready.countDown();
      while (running) {
        for (ConsumerRecord<String, String> record : kafka.poll(Duration.ofSeconds(1))) {
          events.received(toEvent(record));
        }
      }
    } catch (WakeupException ex) {
      // stop() woke the consumer up
    } catch (RuntimeException ex) {
      if (running) {
        log.error("The demo consumer of topic {} failed", topic, ex);
      }
    } finally {
      kafka.close(CloseOptions.timeout(Duration.ofSeconds(5)));
    }
  }

  static ReceivedEvent toEvent(ConsumerRecord<String, String> record) {
    Map<String, String> shown = new LinkedHashMap<>();
    for (String name : SHOWN_HEADERS) {
      shown.put(name, header(record, name));
    }
    return new ReceivedEvent(
        "Kafka topic "
            + record.topic()
            + ", partition "
            + record.partition()
            + ", offset "
            + record.offset(),
        record.key(),
        header(record, "ce_type"),
        shown,
        record.value());
  }

  private static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? "(none)" : new String(header.value(), StandardCharsets.UTF_8);
  }

  @Override
  public void stop() {
    running = false;
    Consumer<String, String> kafka = consumer;
    if (kafka != null) {
      kafka.wakeup();
    }
    Thread poller = thread;
    if (poller != null) {
      try {
        poller.join(10_000);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
