package dev.outbox.kafka.multi;

import com.zaxxer.hikari.HikariDataSource;
import dev.outbox.kafka.KafkaOutboxTransport;
import dev.outbox.kafka.KafkaTransportOptions;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;

/**
 * One relay instance as a separate JVM: the core relay on the PostgreSQL store and the Kafka
 * transport, as a service instance without Spring would run it. Started by {@link RelayProcess}.
 *
 * <p>Arguments: JDBC URL, user, password, outbox schema, Kafka bootstrap servers, instance name,
 * batch size. The instance name is the CloudEvents {@code source} of what it publishes, so a
 * consumer can tell the instances apart. Prints {@value #READY} once the relay runs; exits when
 * its standard input closes (the test JVM ended) or when killed.
 */
public final class StandaloneRelay {

  static final String READY = "RELAY READY";

  private StandaloneRelay() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 7) {
      throw new IllegalArgumentException(
          "usage: jdbc-url user password schema bootstrap-servers name batch-size");
    }
    String name = args[5];
    HikariDataSource dataSource = new HikariDataSource();
    dataSource.setJdbcUrl(args[0]);
    dataSource.setUsername(args[1]);
    dataSource.setPassword(args[2]);
    dataSource.setMaximumPoolSize(2);
    dataSource.setPoolName(name);
    PostgresOutboxRepository repository =
        new PostgresOutboxRepository(dataSource, TableName.of(args[3], "outbox_event"));
    DefaultKafkaProducerFactory<String, String> applicationFactory =
        new DefaultKafkaProducerFactory<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                args[4],
                ProducerConfig.CLIENT_ID_CONFIG,
                name));
    KafkaOutboxTransport transport =
        KafkaOutboxTransport.create(
            applicationFactory, KafkaTransportOptions.defaults().withSource(name));
    OutboxRelay relay =
        OutboxRelay.builder()
            .repository(repository)
            .transport(transport)
            .batchSize(Integer.parseInt(args[6]))
            .pollInterval(Duration.ofMillis(50))
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
