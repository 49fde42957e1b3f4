package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.kafka.e2e.ShopApplication;
import dev.outbox.kafka.e2e.ShopService;
import dev.outbox.test.TestPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * An application that reaches Kafka over TLS the way Spring Boot configures it: {@code
 * spring.kafka.security.protocol=SSL} and an SSL bundle named in {@code spring.kafka.ssl.bundle}.
 * The outbox's own producer is derived from Boot's producer factory, so it must carry the bundle: a
 * producer without it does not trust the broker's self-signed certificate and publishes nothing.
 * The broker's TLS listener has a key made for this test run with the JDK's {@code keytool}.
 */
class KafkaTlsIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static final String PASSWORD = "tls-secret";

  private static final String CLIENT_ID = "tls-shop";

  @TempDir static Path certificates;

  private static TestKafka kafka;

  private static String schema;

  @BeforeAll
  static void startBroker() throws Exception {
    Path keyStore = certificates.resolve("broker.p12");
    Path certificate = certificates.resolve("broker.crt");
    keytool(
        "-genkeypair",
        "-alias",
        "broker",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=IP:127.0.0.1,DNS:localhost",
        "-storetype",
        "PKCS12",
        "-keystore",
        keyStore.toString(),
        "-storepass",
        PASSWORD,
        "-keypass",
        PASSWORD);
    keytool(
        "-exportcert",
        "-alias",
        "broker",
        "-keystore",
        keyStore.toString(),
        "-storepass",
        PASSWORD,
        "-file",
        certificate.toString());
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "broker",
        "-file",
        certificate.toString(),
        "-storetype",
        "PKCS12",
        "-keystore",
        certificates.resolve("trust.p12").toString(),
        "-storepass",
        PASSWORD);
    kafka = TestKafka.startTls(keyStore, PASSWORD);
    kafka.createTopics(ShopService.TOPIC);
    schema = TestPostgres.get().createSchema("kafka_tls");
  }

  @AfterAll
  static void stopBroker() {
    try {
      if (kafka != null) {
        kafka.close();
      }
    } finally {
      if (schema != null) {
        TestPostgres.get().dropSchema(schema);
      }
    }
  }

  @Test
  void publishesOverTlsWithTheSslBundleNamedInBootsKafkaSettings() {
    try (ConfigurableApplicationContext context = startApplication()) {
      context.getBean(ShopService.class).placeOrder("tls-order-1", 1);

      List<ConsumerRecord<String, String>> records =
          kafka.read(ShopService.TOPIC, TIMEOUT, r -> r.size() >= 1);
      assertThat(records).extracting(ConsumerRecord::key).containsExactly("tls-order-1");
    }
  }

  @Test
  void theOutboxProducerIsClosedWithTheApplicationContext() {
    try (ConfigurableApplicationContext context = startApplication()) {
      context.getBean(ShopService.class).placeOrder("tls-order-2", 1);
      kafka.read(
          ShopService.TOPIC, TIMEOUT, r -> r.stream().anyMatch(x -> x.key().equals("tls-order-2")));
      assertThat(outboxProducerThreads()).isNotEmpty();
    }

    // Closing a producer waits for its network thread; the bound is the producer's close timeout.
    await().atMost(TIMEOUT).until(() -> outboxProducerThreads().isEmpty());
  }

  private static ConfigurableApplicationContext startApplication() {
    String url = TestPostgres.get().url();
    return new SpringApplicationBuilder(ShopApplication.class)
        .web(WebApplicationType.NONE)
        .properties(
            "spring.application.name=tls-shop",
            "spring.datasource.url="
                + url
                + (url.contains("?") ? "&" : "?")
                + "currentSchema="
                + schema,
            "spring.datasource.username=" + TestPostgres.get().user(),
            "spring.datasource.password=" + TestPostgres.get().password(),
            "spring.jpa.hibernate.ddl-auto=create",
            "spring.jpa.open-in-view=false",
            "outbox.table.schema=" + schema,
            "spring.kafka.bootstrap-servers=" + kafka.tlsBootstrapServers(),
            "spring.kafka.client-id=" + CLIENT_ID,
            "spring.kafka.security.protocol=SSL",
            "spring.kafka.ssl.bundle=broker",
            "spring.ssl.bundle.jks.broker.truststore.location=file:"
                + certificates.resolve("trust.p12"),
            "spring.ssl.bundle.jks.broker.truststore.password=" + PASSWORD,
            "spring.ssl.bundle.jks.broker.truststore.type=PKCS12")
        .run();
  }

  /**
   * The network threads of the outbox's producers, named after their client ids: the application's
   * with the outbox's suffix, and a counter the producer factory appends.
   */
  private static List<Thread> outboxProducerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(t -> t.getName().contains("| " + CLIENT_ID + ProducerSettings.CLIENT_ID_SUFFIX))
        .toList();
  }

  private static void keytool(String... arguments) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(arguments));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("keytool " + List.of(arguments) + " failed: " + output);
    }
  }
}
