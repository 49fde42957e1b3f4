package dev.outbox.kafka;

import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPorts;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jspecify.annotations.Nullable;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * A real KRaft Kafka broker in the test JVM, with automatic topic creation off (a send to a topic
 * that does not exist fails), plus plain-client helpers to create topics and read records.
 */
final class TestKafka implements AutoCloseable {

  /** How long a producer waits for metadata before a send fails: a missing topic fails fast. */
  static final int MAX_BLOCK_MS = 2000;

  private static final String FIXED_LISTENER = "FIXED";

  private static final int PARTITIONS = 3;

  private final EmbeddedKafkaKraftBroker broker;
  private final String bootstrapServers;

  private TestKafka(EmbeddedKafkaKraftBroker broker, String bootstrapServers) {
    this.broker = broker;
    this.bootstrapServers = bootstrapServers;
  }

  static TestKafka start() {
    EmbeddedKafkaKraftBroker broker = newBroker();
    broker.afterPropertiesSet();
    return new TestKafka(broker, broker.getBrokersAsString());
  }

  /**
   * A broker that clients reach at {@code 127.0.0.1:port}. The KRaft test cluster binds its own
   * listeners to random ports ({@code kafkaPorts} is not supported for KRaft), so the fixed port is
   * an additional listener, advertised as itself.
   */
  static TestKafka startOnPort(int port) {
    EmbeddedKafkaKraftBroker broker = newBroker();
    broker.brokerProperty(
        "listeners",
        "EXTERNAL://localhost:0,CONTROLLER://localhost:0,"
            + FIXED_LISTENER
            + "://127.0.0.1:"
            + port);
    broker.brokerProperty(
        "listener.security.protocol.map",
        "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + FIXED_LISTENER + ":PLAINTEXT");
    broker.afterPropertiesSet();
    return new TestKafka(broker, "127.0.0.1:" + port);
  }

  /**
   * A broker with a listener on {@code brokerPort} that it advertises as {@code advertisedPort}, so
   * that clients bootstrapping at {@code 127.0.0.1:advertisedPort} (a proxy in front of the broker)
   * also send every later request through it. {@link #bootstrapServers()} (the tests' admin and
   * consumers) reaches the broker directly.
   */
  static TestKafka startAdvertising(int brokerPort, int advertisedPort) {
    EmbeddedKafkaKraftBroker broker = newBroker();
    broker.brokerProperty(
        "listeners",
        "EXTERNAL://localhost:0,CONTROLLER://localhost:0,"
            + FIXED_LISTENER
            + "://127.0.0.1:"
            + brokerPort);
    // Port 0: the broker advertises the port it bound.
    broker.brokerProperty(
        "advertised.listeners",
        "EXTERNAL://localhost:0," + FIXED_LISTENER + "://127.0.0.1:" + advertisedPort);
    broker.brokerProperty(
        "listener.security.protocol.map",
        "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + FIXED_LISTENER + ":PLAINTEXT");
    broker.afterPropertiesSet();
    return new TestKafka(broker, broker.getBrokersAsString());
  }

  /** The listener of {@link #startSecured()} that takes SASL/PLAIN logins. */
  private static final String SASL_LISTENER = "SASL";

  /** The user {@link #startSecured()} knows besides the tests' own unauthenticated admin. */
  static final String APP_USER = "app";

  static final String APP_PASSWORD = "app-secret";

  /**
   * A broker with a second listener, at {@link #saslBootstrapServers()}, that takes SASL/PLAIN
   * logins of {@link #APP_USER} (password {@link #APP_PASSWORD}), and the KRaft {@code
   * StandardAuthorizer}: the app user may do only what {@link #allowWrite} grants. The plaintext
   * listener at {@link #bootstrapServers()} (the tests' admin and consumers) is a super user.
   */
  static TestKafka startSecured() {
    int port = TestPorts.unused();
    EmbeddedKafkaKraftBroker broker = newBroker();
    broker.brokerProperty(
        "listeners",
        "EXTERNAL://localhost:0,CONTROLLER://localhost:0,"
            + SASL_LISTENER
            + "://127.0.0.1:"
            + port);
    broker.brokerProperty(
        "listener.security.protocol.map",
        "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + SASL_LISTENER + ":SASL_PLAINTEXT");
    String prefix = "listener.name." + SASL_LISTENER.toLowerCase(Locale.ROOT) + ".";
    broker.brokerProperty(prefix + "sasl.enabled.mechanisms", "PLAIN");
    broker.brokerProperty(
        prefix + "plain.sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required user_"
            + APP_USER
            + "=\""
            + APP_PASSWORD
            + "\";");
    broker.brokerProperty(
        "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
    broker.brokerProperty("super.users", "User:ANONYMOUS");
    broker.afterPropertiesSet();
    TestKafka kafka = new TestKafka(broker, broker.getBrokersAsString());
    kafka.saslBootstrapServers = "127.0.0.1:" + port;
    return kafka;
  }

  /** The listener of {@link #startTls} that takes TLS connections. */
  private static final String TLS_LISTENER = "TLS";

  /**
   * A broker with a second listener, at {@link #tlsBootstrapServers()}, that takes TLS connections
   * with the key and certificate in {@code keyStore} (PKCS12, {@code password}). The plaintext
   * listener at {@link #bootstrapServers()} serves the tests' admin and consumers.
   */
  static TestKafka startTls(java.nio.file.Path keyStore, String password) {
    int port = TestPorts.unused();
    EmbeddedKafkaKraftBroker broker = newBroker();
    broker.brokerProperty(
        "listeners",
        "EXTERNAL://localhost:0,CONTROLLER://localhost:0," + TLS_LISTENER + "://127.0.0.1:" + port);
    broker.brokerProperty(
        "listener.security.protocol.map",
        "EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT," + TLS_LISTENER + ":SSL");
    String prefix = "listener.name." + TLS_LISTENER.toLowerCase(Locale.ROOT) + ".";
    broker.brokerProperty(prefix + "ssl.keystore.location", keyStore.toString());
    broker.brokerProperty(prefix + "ssl.keystore.type", "PKCS12");
    broker.brokerProperty(prefix + "ssl.keystore.password", password);
    broker.brokerProperty(prefix + "ssl.key.password", password);
    broker.afterPropertiesSet();
    TestKafka kafka = new TestKafka(broker, broker.getBrokersAsString());
    kafka.tlsBootstrapServers = "127.0.0.1:" + port;
    return kafka;
  }

  private @Nullable String tlsBootstrapServers;

  /** The TLS listener of a broker {@link #startTls started with one}. */
  String tlsBootstrapServers() {
    if (tlsBootstrapServers == null) {
      throw new IllegalStateException("not a TLS broker");
    }
    return tlsBootstrapServers;
  }

  private @Nullable String saslBootstrapServers;

  /** The SASL/PLAIN listener of a {@link #startSecured() secured} broker. */
  String saslBootstrapServers() {
    if (saslBootstrapServers == null) {
      throw new IllegalStateException("not a secured broker");
    }
    return saslBootstrapServers;
  }

  /** Producer settings logging in to a {@link #startSecured() secured} broker as {@code user}. */
  Map<String, Object> saslProducerConfig(String user, String password) {
    Map<String, Object> config = producerConfig(saslBootstrapServers());
    config.put("security.protocol", "SASL_PLAINTEXT");
    config.put("sasl.mechanism", "PLAIN");
    config.put(
        "sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
            + user
            + "\" password=\""
            + password
            + "\";");
    return config;
  }

  /** Lets {@link #APP_USER} write (and describe) {@code topic} on a secured broker. */
  void allowWrite(String topic) {
    List<AclBinding> bindings = new ArrayList<>();
    for (AclOperation operation : List.of(AclOperation.WRITE, AclOperation.DESCRIBE)) {
      bindings.add(
          new AclBinding(
              new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
              new AccessControlEntry("User:" + APP_USER, "*", operation, AclPermissionType.ALLOW)));
    }
    try (Admin admin = admin()) {
      admin.createAcls(bindings).all().get();
    } catch (Exception ex) {
      throw new IllegalStateException("Could not grant write on " + topic, ex);
    }
  }

  /** How many records {@code topic} holds: the sum of its partitions' end offsets. */
  long records(String topic) {
    try (Admin admin = admin()) {
      return admin.listOffsets(endOffsets(topic)).all().get().values().stream()
          .mapToLong(ListOffsetsResultInfo::offset)
          .sum();
    } catch (Exception ex) {
      throw new IllegalStateException("Could not read the end offsets of " + topic, ex);
    }
  }

  private Admin admin() {
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    return Admin.create(config);
  }

  private static EmbeddedKafkaKraftBroker newBroker() {
    EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 3);
    broker.brokerProperty("auto.create.topics.enable", "false");
    broker.brokerListProperty("outbox.test.kafka.bootstrap-servers");
    return broker;
  }

  String bootstrapServers() {
    return bootstrapServers;
  }

  /** Producer settings as an application would give them in {@code spring.kafka.*}. */
  Map<String, Object> producerConfig() {
    return producerConfig(bootstrapServers);
  }

  static Map<String, Object> producerConfig(String bootstrapServers) {
    Map<String, Object> config = new HashMap<>();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
    return config;
  }

  /** Creates a topic with a unique name starting with {@code prefix}, and its dead-letter topic. */
  String newTopic(String prefix) {
    String topic = prefix + "-" + UUID.randomUUID();
    createTopics(topic, topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    return topic;
  }

  /**
   * Creates a topic with a unique name starting with {@code prefix} and topic-level {@code configs}
   * (e.g. {@code min.insync.replicas}), and its dead-letter topic without them.
   */
  String newTopic(String prefix, Map<String, String> configs) {
    String topic = prefix + "-" + UUID.randomUUID();
    createTopics(configs, 1, topic);
    createTopics(topic + KafkaOutboxDefaults.DEAD_LETTER_SUFFIX);
    return topic;
  }

  void createTopics(String... topics) {
    createTopics(Map.of(), 1, topics);
  }

  private void createTopics(Map<String, String> configs, int replicas, String... topics) {
    List<NewTopic> newTopics = new ArrayList<>();
    for (String topic : topics) {
      newTopics.add(new NewTopic(topic, PARTITIONS, (short) replicas).configs(configs));
    }
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(config)) {
      admin.createTopics(newTopics).all().get();
      awaitLeaders(admin, topics);
    } catch (Exception ex) {
      throw new IllegalStateException("Could not create topics " + List.of(topics), ex);
    }
  }

  /**
   * Waits until every partition's leader serves requests. A produce request that reaches a fresh
   * partition before its leader is ready fails with NOT_LEADER_OR_FOLLOWER; when later batches of
   * the idempotent producer get in first, the retried one is rejected as out of order until the
   * delivery timeout. Applications create their topics ahead of time; tests do it here.
   */
  private static void awaitLeaders(Admin admin, String... topics) {
    Map<TopicPartition, OffsetSpec> partitions = endOffsets(topics);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(() -> admin.listOffsets(partitions).all().get().size() == partitions.size());
  }

  /** A request for the end offset of every partition of {@code topics}. */
  private static Map<TopicPartition, OffsetSpec> endOffsets(String... topics) {
    Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
    for (String topic : topics) {
      for (int p = 0; p < PARTITIONS; p++) {
        partitions.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
    }
    return partitions;
  }

  /**
   * Reads {@code topic} from the beginning with a plain consumer until {@code done} holds for the
   * records read, or {@code timeout} passes; returns what was read.
   */
  List<ConsumerRecord<String, String>> read(
      String topic, Duration timeout, Predicate<List<ConsumerRecord<String, String>>> done) {
    return read(topic, StringDeserializer.class, timeout, done);
  }

  /** The same, with record values read by {@code values} (a consumer's own deserializer). */
  <V> List<ConsumerRecord<String, V>> read(
      String topic,
      Class<? extends Deserializer<V>> values,
      Duration timeout,
      Predicate<List<ConsumerRecord<String, V>>> done) {
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, values);
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 4 * 1024 * 1024);
    List<ConsumerRecord<String, V>> records = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, timeout).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!done.test(records) && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  /** Reads until {@code count} records were read or {@code timeout} passes. */
  List<ConsumerRecord<String, String>> read(String topic, int count, Duration timeout) {
    return read(topic, timeout, records -> records.size() >= count);
  }

  static @Nullable String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static Map<String, String> headers(ConsumerRecord<?, ?> record) {
    Map<String, String> headers = new HashMap<>();
    for (Header header : record.headers()) {
      headers.put(header.key(), new String(header.value(), StandardCharsets.UTF_8));
    }
    return headers;
  }

  @Override
  public void close() {
    broker.destroy();
  }
}
