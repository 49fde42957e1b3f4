package dev.outbox.inbox.kafka;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/** A real KRaft Kafka broker in the test JVM, topics created explicitly. */
final class InboxTestKafka implements AutoCloseable {

  private static final int PARTITIONS = 1;

  private final EmbeddedKafkaKraftBroker broker;

  private InboxTestKafka(EmbeddedKafkaKraftBroker broker) {
    this.broker = broker;
  }

  static InboxTestKafka start() {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, PARTITIONS);
    broker.brokerProperty("auto.create.topics.enable", "false");
    broker.brokerListProperty("outbox.test.inbox.kafka.bootstrap-servers");
    broker.afterPropertiesSet();
    return new InboxTestKafka(broker);
  }

  String bootstrapServers() {
    return broker.getBrokersAsString();
  }

  void createTopics(String... topics) {
    List<NewTopic> newTopics = new ArrayList<>();
    for (String topic : topics) {
      newTopics.add(new NewTopic(topic, PARTITIONS, (short) 1));
    }
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    try (Admin admin = Admin.create(config)) {
      admin.createTopics(newTopics).all().get();
      Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
      for (String topic : topics) {
        partitions.put(new TopicPartition(topic, 0), OffsetSpec.latest());
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50))
          .ignoreExceptions()
          .until(() -> admin.listOffsets(partitions).all().get().size() == partitions.size());
    } catch (Exception ex) {
      throw new IllegalStateException("Could not create topics " + List.of(topics), ex);
    }
  }

  /**
   * The offset that consumer group {@code group} committed on partition 0 of {@code topic}: the
   * next record it would read; 0 if it committed none.
   */
  long committedOffset(String group, String topic) {
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    try (Admin admin = Admin.create(config)) {
      OffsetAndMetadata committed =
          admin
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get()
              .get(new TopicPartition(topic, 0));
      return committed == null ? 0 : committed.offset();
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    } catch (ExecutionException ex) {
      throw new IllegalStateException("Could not read the offsets of group " + group, ex);
    }
  }

  @Override
  public void close() {
    broker.destroy();
  }
}
