package dev.outbox.benchmarks;

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

/** The broker-side setup of each case (topics, exchanges, queues) and broker-side counts. */
final class Brokers {

  static final int PARTITIONS = 6;

  private Brokers() {}

  static CachingConnectionFactory rabbitConnectionFactory(Settings settings) {
    CachingConnectionFactory factory =
        new CachingConnectionFactory(settings.rabbitHost(), settings.rabbitPort());
    factory.setUsername(settings.rabbitUser());
    factory.setPassword(settings.rabbitPassword());
    factory.setPublisherConfirmType(CachingConnectionFactory.ConfirmType.CORRELATED);
    factory.setPublisherReturns(true);
    return factory;
  }

  /**
   * A durable topic exchange {@code name} bound with {@code #} to a new durable queue of {@code
   * queueType} (one of an earlier run is deleted first, whatever its type).
   */
  static void rabbitTopology(CachingConnectionFactory factory, String name, String queueType) {
    RabbitAdmin admin = new RabbitAdmin(factory);
    TopicExchange exchange = new TopicExchange(name, true, false);
    Queue queue = new Queue(name, true, false, false, Map.of("x-queue-type", queueType));
    admin.declareExchange(exchange);
    admin.deleteQueue(name);
    admin.declareQueue(queue);
    admin.declareBinding(BindingBuilder.bind(queue).to(exchange).with("#"));
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
      tools.jackson.databind.json.JsonMapper mapper =
          tools.jackson.databind.json.JsonMapper.builder().build();
      String[] values = new String[100];
      for (int i = 0; i < values.length; i++) {
        values[i] = mapper.writeValueAsString(OrderEvent.of(i, 100));
      }
      for (int i = 0; i < records; i++) {
        producer.send(
            new org.apache.kafka.clients.producer.ProducerRecord<>(
                topic, "k" + (i % 100), values[i % 100]));
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
