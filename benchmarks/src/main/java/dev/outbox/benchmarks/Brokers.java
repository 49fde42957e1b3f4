package dev.outbox.benchmarks;

import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.kafka.KafkaTransportOptions;
import dev.outbox.rabbit.RabbitOutboxOptions;
import dev.outbox.rabbit.RabbitOutboxTransport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.core.TopicExchange;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.amqp.rabbit.core.RabbitAdmin;

/** Transports as an application would build them, and the broker-side setup of each case. */
final class Brokers {

  static final int PARTITIONS = 6;

  private Brokers() {}

  /** The library's Kafka transport with its defaults: only the bootstrap servers are given. */
  static KafkaOutboxTransport kafkaTransport(Settings settings) {
    return kafkaTransport(settings, Map.of());
  }

  /**
   * The library's Kafka transport with producer settings an application may set through {@code
   * spring.kafka.producer.*} (used only by the tuned diagnostic variant of B4).
   */
  static KafkaOutboxTransport kafkaTransport(Settings settings, Map<String, Object> producer) {
    Map<String, Object> config = new java.util.HashMap<>(producer);
    config.put("bootstrap.servers", settings.kafkaBootstrap());
    return KafkaOutboxTransport.create(
        config, KafkaTransportOptions.defaults().withSource("outbox-bench"));
  }

  static CachingConnectionFactory rabbitConnectionFactory(Settings settings) {
    CachingConnectionFactory factory =
        new CachingConnectionFactory(settings.rabbitHost(), settings.rabbitPort());
    factory.setUsername(settings.rabbitUser());
    factory.setPassword(settings.rabbitPassword());
    factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    factory.setPublisherReturns(true);
    return factory;
  }

  static RabbitOutboxTransport rabbitTransport(CachingConnectionFactory factory) {
    return new RabbitOutboxTransport(
        factory, RabbitOutboxOptions.defaults().withSource("outbox-bench"));
  }

  /** A durable topic exchange {@code name} bound with {@code #} to a durable, emptied queue. */
  static void rabbitTopology(CachingConnectionFactory factory, String name) {
    RabbitAdmin admin = new RabbitAdmin(factory);
    TopicExchange exchange = new TopicExchange(name, true, false);
    Queue queue = new Queue(name, true);
    admin.declareExchange(exchange);
    admin.declareQueue(queue);
    admin.declareBinding(BindingBuilder.bind(queue).to(exchange).with("#"));
    admin.purgeQueue(name, false);
  }

  static long rabbitQueueDepth(CachingConnectionFactory factory, String name) {
    var info = new RabbitAdmin(factory).getQueueInfo(name);
    return info == null ? -1 : info.getMessageCount();
  }

  static void rabbitDelete(CachingConnectionFactory factory, String name) {
    RabbitAdmin admin = new RabbitAdmin(factory);
    admin.deleteQueue(name);
    admin.deleteExchange(name);
  }

  static Admin kafkaAdmin(Settings settings) {
    return Admin.create(
        Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.kafkaBootstrap()));
  }

  /** Creates a fresh topic (deleting one of the same name first). */
  static void createTopic(Settings settings, String topic) {
    try (Admin admin = kafkaAdmin(settings)) {
      deleteTopics(admin, List.of(topic));
      for (int attempt = 0; ; attempt++) {
        try {
          admin
              .createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1)))
              .all()
              .get(30, TimeUnit.SECONDS);
          return;
        } catch (Exception ex) {
          if (attempt > 20) {
            throw new IllegalStateException("Could not create topic " + topic, ex);
          }
          Thread.sleep(500);
        }
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(ex);
    }
  }

  static void deleteTopic(Settings settings, String topic) {
    try (Admin admin = kafkaAdmin(settings)) {
      deleteTopics(admin, List.of(topic));
    }
  }

  private static void deleteTopics(Admin admin, List<String> topics) {
    try {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<String> present = topics.stream().filter(existing::contains).toList();
      if (!present.isEmpty()) {
        admin.deleteTopics(present).all().get(30, TimeUnit.SECONDS);
        // Deletion is asynchronous in the controller; wait until the names are gone.
        for (int i = 0; i < 100; i++) {
          Set<String> now = admin.listTopics().names().get(30, TimeUnit.SECONDS);
          if (present.stream().noneMatch(now::contains)) {
            break;
          }
          Thread.sleep(100);
        }
      }
    } catch (Exception ex) {
      throw new IllegalStateException("Could not delete topics " + topics, ex);
    }
  }

  /**
   * Warms the freshly started broker (its JIT, page cache and request paths) with {@code records} 1
   * KB records to {@code topic}, so the first case does not measure a cold broker.
   */
  static void warmUpBroker(Settings settings, String topic, int records) {
    Map<String, Object> config =
        Map.of("bootstrap.servers", settings.kafkaBootstrap(), "acks", "all", "linger.ms", 5);
    try (var producer =
        new org.apache.kafka.clients.producer.KafkaProducer<>(
            config,
            new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
      String value = OrderEvent.NOTE;
      for (int i = 0; i < records; i++) {
        producer.send(
            new org.apache.kafka.clients.producer.ProducerRecord<>(topic, "k" + (i % 100), value));
      }
      producer.flush();
    }
  }

  /** The number of records in a topic: the sum of its partitions' end offsets. */
  static long topicRecords(Settings settings, String topic) {
    try (Admin admin = kafkaAdmin(settings)) {
      var description =
          admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
      Map<TopicPartition, OffsetSpec> request =
          description.get(topic).partitions().stream()
              .collect(
                  Collectors.toMap(
                      p -> new TopicPartition(topic, p.partition()), p -> OffsetSpec.latest()));
      return admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).values().stream()
          .mapToLong(info -> info.offset())
          .sum();
    } catch (Exception ex) {
      throw new IllegalStateException("Could not count the records of " + topic, ex);
    }
  }
}
