package dev.outbox.kafka.multi;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.kafka.KafkaTransportOptions;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;

/**
 * One relay instance as a separate JVM: the core relay on the PostgreSQL store and the Kafka
 * transport, as a service instance without Spring would run it. Started by {@link RelayProcess}.
 *
 * <p>Arguments: JDBC URL, user, password, outbox schema, Kafka bootstrap servers, instance name,
 * batch size, warm-up topic. Before it starts relaying, the instance sends one record to the
 * warm-up topic and waits for it, so that its producer is connected and warm, as in a service that
 * has been up for a while. It also sets {@code max.block.ms} to 10 s as an application may: a JVM
 * started cold on a busy 2-core machine was seen to miss the transport's default 2 s metadata bound
 * on its first sends, which only adds retries unrelated to what these tests check. The instance
 * name is the CloudEvents {@code source} of what it publishes, so a consumer can tell the instances
 * apart. Prints {@value #READY} once the relay runs; exits when its standard input closes (the test
 * JVM ended) or when killed.
 */
public final class StandaloneRelay {

  static final String READY = "RELAY READY";

  private StandaloneRelay() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 8) {
      throw new IllegalArgumentException(
          "usage: jdbc-url user password schema bootstrap-servers name batch-size warm-up-topic");
    }
    String name = args[5];
    HikariDataSource dataSource = new HikariDataSource();
    dataSource.setJdbcUrl(args[0]);
    dataSource.setUsername(args[1]);
    dataSource.setPassword(args[2]);
    // the relay's lease connection, and one per worker
    dataSource.setMaximumPoolSize(4);
    dataSource.setPoolName(name);
    PostgresOutboxRepository repository =
        new PostgresOutboxRepository(dataSource, TableName.of(args[3], "outbox_event"));
    DefaultKafkaProducerFactory<String, String> applicationFactory =
        new DefaultKafkaProducerFactory<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                args[4],
                ProducerConfig.CLIENT_ID_CONFIG,
                name,
                ProducerConfig.MAX_BLOCK_MS_CONFIG,
                10_000));
    KafkaOutboxTransport transport =
        KafkaOutboxTransport.create(
            applicationFactory, KafkaTransportOptions.defaults().withSource(name));
    transport
        .send(
            new OutboxEvent(
                EventIds.next(),
                0,
                args[7],
                name,
                null,
                "RelayStarted",
                1,
                "{}",
                Map.of(),
                Instant.now(),
                0))
        .get(60, TimeUnit.SECONDS);
    OutboxRelay relay =
        OutboxRelay.builder()
            .repository(repository)
            .transport(transport)
            .batchSize(Integer.parseInt(args[6]))
            .pollInterval(Duration.ofMillis(50))
            // at least twice the 10 s max.block.ms above, as the relay requires
            .publishTimeout(Duration.ofSeconds(20))
            .name(name)
            .build();
    relay.start();
    System.out.println(READY + " " + name);
    System.out.flush();
    while (System.in.read() >= 0) {
      // runs until the test closes the pipe or kills the process
    }
    relay.close();
    transport.close();
    dataSource.close();
  }
}
