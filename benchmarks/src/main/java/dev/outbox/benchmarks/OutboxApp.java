package dev.outbox.benchmarks;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.transport.OutboxTransport;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The application every outbox case runs: Spring Boot with {@code outbox-spring-boot-starter} and
 * {@code outbox-kafka} or {@code outbox-rabbit}, configured only through properties ({@link
 * #properties}); the library's {@code outbox.*} settings keep their defaults. Business transactions
 * go through the injectable {@link Outbox} inside a {@link TransactionTemplate} on Boot's
 * DataSource, with the {@code UPDATE account} statement. Spring Modulith is not on this
 * application's classpath (the suite starts it without those jars, see {@link ChildProcess}).
 *
 * <p>The benchmark adds two beans: {@link Wrappers}, which wraps the {@link OutboxTransport} bean
 * in an {@link AckingTransport} (and, for the idle case, the DataSource in a {@link
 * CountingDataSource}), and {@link StartGate}, which for the drains holds the context's start (and
 * so the starter's relay lifecycle) until the suite's start signal.
 */
@SpringBootApplication
public class OutboxApp {

  /** The {@code application_name} of the application's pool, for {@code pg_stat_activity}. */
  static final String APPLICATION_NAME = "outbox-relay-bench";

  /** Where the acknowledgements go; set before the context starts. */
  static volatile AckingTransport.Acks acks = (event, nanos) -> {};

  /** The statement counter around the DataSource, when {@code bench.count-statements=true}. */
  static volatile CountingDataSource counting;

  /** The instant ({@link System#currentTimeMillis()}) the start signal arrived, or 0. */
  static volatile long goMillis;

  @Bean
  static Wrappers benchWrappers(Environment environment) {
    return new Wrappers(environment.getProperty("bench.count-statements", Boolean.class, false));
  }

  @Bean
  static StartGate benchStartGate(
      ObjectProvider<OutboxTransport> transport, Environment environment) {
    return new StartGate(transport, environment.getProperty("bench.gate", Boolean.class, false));
  }

  /** The properties of the application; {@code extra} adds or overrides. */
  static Map<String, Object> properties(
      Settings settings, String transport, int poolSize, Map<String, String> extra) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("spring.main.web-application-type", "none");
    p.put("spring.main.banner-mode", "off");
    p.put("spring.application.name", "outbox-bench");
    p.put("spring.datasource.url", settings.jdbcUrl());
    p.put("spring.datasource.username", settings.dbUser());
    p.put("spring.datasource.hikari.data-source-properties.ApplicationName", APPLICATION_NAME);
    if (poolSize > 0) {
      p.put("spring.datasource.hikari.maximum-pool-size", String.valueOf(poolSize));
    }
    p.put("spring.kafka.bootstrap-servers", settings.kafkaBootstrap());
    p.put("spring.rabbitmq.host", settings.rabbitHost());
    p.put("spring.rabbitmq.port", String.valueOf(settings.rabbitPort()));
    p.put("spring.rabbitmq.username", settings.rabbitUser());
    p.put("spring.rabbitmq.password", settings.rabbitPassword());
    p.put("spring.rabbitmq.publisher-confirm-type", "correlated");
    p.put("spring.rabbitmq.publisher-returns", "true");
    // Both transport modules are on the classpath; an application has one.
    if (transport.equals("rabbit")) {
      p.put("outbox.kafka.enabled", "false");
    } else {
      p.put("outbox.rabbit.enabled", "false");
    }
    p.putAll(extra);
    return p;
  }

  static Running run(Map<String, Object> properties) {
    SpringApplication application = new SpringApplication(OutboxApp.class);
    application.setDefaultProperties(properties);
    return new Running(application.run());
  }

  /** A started application and the beans the cases use. */
  static final class Running implements AutoCloseable {

    final ConfigurableApplicationContext context;
    final Outbox outbox;
    final TransactionTemplate tx;
    final JdbcTemplate jdbc;
    final DataSource dataSource;

    Running(ConfigurableApplicationContext context) {
      this.context = context;
      this.outbox = context.getBean(Outbox.class);
      this.tx = context.getBean(TransactionTemplate.class);
      this.jdbc = context.getBean(JdbcTemplate.class);
      this.dataSource = context.getBean(DataSource.class);
    }

    OutboxRelay relay() {
      return context.getBean(OutboxRelay.class);
    }

    /**
     * One business transaction: updates an account row and publishes {@code count} events numbered
     * from {@code first} through {@link Outbox#publish(String, String, Object)}; returns the
     * instant the commit completed (taken before the starter's after-commit wake-up runs).
     */
    long businessTransaction(String topic, long first, int count, int keys) {
      long[] committed = new long[1];
      tx.executeWithoutResult(
          status -> {
            jdbc.update(Db.UPDATE_ACCOUNT, first % Db.ACCOUNTS);
            for (long n = first; n < first + count; n++) {
              outbox.publish(topic, OrderEvent.key(n, keys), OrderEvent.of(n, keys));
            }
            TransactionSynchronizationManager.registerSynchronization(
                new TransactionSynchronization() {
                  @Override
                  public int getOrder() {
                    return Ordered.HIGHEST_PRECEDENCE;
                  }

                  @Override
                  public void afterCommit() {
                    committed[0] = System.nanoTime();
                  }
                });
          });
      return committed[0];
    }

    /**
     * Runs {@code count} business transactions whose events are not recorded and waits until they
     * are published: connections, the producer and the JIT are warm when measuring starts.
     */
    void warmUp(String topic, int count) {
      for (int i = 0; i < count; i++) {
        businessTransaction(topic, Timeline.WARM_UP_FROM + i, 1, 10_000);
      }
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (System.nanoTime() < deadline && Db.anyPending(dataSource)) {
        LatencyCase.sleep(50);
      }
      LatencyCase.sleep(500);
    }

    @Override
    public void close() {
      context.close();
    }
  }

  /** Wraps the transport bean (and, for B5, the DataSource) without changing what they do. */
  static final class Wrappers implements BeanPostProcessor {

    private final boolean countStatements;

    Wrappers(boolean countStatements) {
      this.countStatements = countStatements;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
      if (bean instanceof OutboxTransport transport && !(bean instanceof AckingTransport)) {
        return new AckingTransport(transport, (event, nanos) -> acks.acked(event, nanos));
      }
      if (countStatements && bean instanceof DataSource dataSource && counting == null) {
        counting = new CountingDataSource(dataSource);
        return counting.dataSource;
      }
      return bean;
    }
  }

  /**
   * For the drains: starts before the starter's relay lifecycle and holds the context's start until
   * the suite says {@code GO}, so the relay (started by the starter when the context starts) does
   * not touch the seeded backlog before the measured window. Before that it sends one event through
   * the transport to a warm-up destination, so the drain does not pay for the producer's first
   * connection, and prints {@code READY}.
   */
  static final class StartGate implements SmartLifecycle {

    private final ObjectProvider<OutboxTransport> transport;
    private final boolean enabled;
    private volatile boolean running;

    StartGate(ObjectProvider<OutboxTransport> transport, boolean enabled) {
      this.transport = transport;
      this.enabled = enabled;
    }

    @Override
    public void start() {
      running = true;
      if (!enabled) {
        return;
      }
      warmUp(transport.getObject());
      Child.emit("READY");
      try {
        String line;
        while ((line = Child.STDIN.readLine()) != null) {
          if (line.trim().equals("GO")) {
            goMillis = System.currentTimeMillis();
            return;
          }
        }
      } catch (IOException ex) {
        throw new IllegalStateException(ex);
      }
      throw new IllegalStateException("The suite ended before the start signal");
    }

    @Override
    public void stop() {
      running = false;
    }

    @Override
    public boolean isRunning() {
      return running;
    }

    /** Below the starter's relay lifecycle ({@code DEFAULT_PHASE - 4096}): started before it. */
    @Override
    public int getPhase() {
      return SmartLifecycle.DEFAULT_PHASE - 8192;
    }

    private static void warmUp(OutboxTransport transport) {
      OrderEvent event = OrderEvent.of(0, 1);
      String payload =
          tools.jackson.databind.json.JsonMapper.builder().build().writeValueAsString(event);
      for (int attempt = 1; ; attempt++) {
        try {
          transport
              .send(
                  new OutboxEvent(
                      UUID.randomUUID(),
                      0,
                      Drain.WARM_UP,
                      event.orderId(),
                      null,
                      OrderEvent.TOPIC_TYPE,
                      1,
                      payload,
                      Map.of(),
                      Instant.now(),
                      0))
              .get(60, TimeUnit.SECONDS);
          return;
        } catch (Exception ex) {
          if (attempt >= 10) {
            throw new IllegalStateException("Warm-up send failed", ex);
          }
          LatencyCase.sleep(500);
        }
      }
    }
  }
}
