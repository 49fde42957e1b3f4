package dev.outbox.benchmarks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.kafka.support.ProducerListener;
import org.springframework.modulith.events.IncompleteEventPublications;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The side-by-side alternative: a Spring Boot application using Spring Modulith's event publication
 * registry (JDBC, same database) and its Kafka event externalization (same broker), configured as
 * its reference documentation shows, otherwise with defaults. The same business transaction (UPDATE
 * + one event published through {@link ApplicationEventPublisher}) and the same payload as the
 * outbox cases.
 *
 * <p>{@code latency}: commit-to-acknowledgement at a fixed open-loop rate, the acknowledgement
 * taken from the Kafka template's producer listener. {@code drain}: a backlog of incomplete
 * publications (written server-side, like the outbox backlog) is resubmitted, and the time until
 * every publication is completed is measured.
 */
final class ModulithCase {

  static Timeline timeline = new Timeline(1);

  private ModulithCase() {}

  static void main(Settings settings, Map<String, String> args) {
    String mode = args.getOrDefault("mode", "latency");
    double rate = Double.parseDouble(args.getOrDefault("rate", "200"));
    double seconds = Double.parseDouble(args.getOrDefault("seconds", "20"));
    double warmup = Double.parseDouble(args.getOrDefault("warmup", "10"));
    int count = Integer.parseInt(args.getOrDefault("count", "20000"));
    int workers = 32;
    timeline = new Timeline(mode.equals("latency") ? (int) (rate * seconds) + 1 : count + 1);
    SpringApplication application = new SpringApplication(App.class);
    application.setDefaultProperties(
        Map.ofEntries(
            Map.entry("spring.main.web-application-type", "none"),
            Map.entry("spring.main.banner-mode", "off"),
            Map.entry("spring.datasource.url", settings.jdbcUrl()),
            Map.entry("spring.datasource.username", settings.dbUser()),
            Map.entry("spring.datasource.hikari.maximum-pool-size", String.valueOf(workers + 4)),
            Map.entry("spring.kafka.bootstrap-servers", settings.kafkaBootstrap()),
            Map.entry(
                "spring.kafka.producer.value-serializer",
                "org.apache.kafka.common.serialization.ByteArraySerializer"),
            Map.entry("spring.modulith.events.jdbc.schema-initialization.enabled", "true"),
            // The outbox jars are on this JVM's classpath too: keep them out of this application.
            Map.entry("outbox.enabled", "false"),
            Map.entry("outbox.kafka.enabled", "false"),
            Map.entry("outbox.rabbit.enabled", "false")));
    try (ConfigurableApplicationContext context = application.run()) {
      JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
      TransactionTemplate tx = context.getBean(TransactionTemplate.class);
      ApplicationEventPublisher publisher = context;
      Map<String, Object> out =
          mode.equals("drain")
              ? drain(context, jdbc, tx, publisher, count)
              : latency(jdbc, tx, publisher, rate, seconds, warmup, workers);
      Child.result(out);
    }
  }

  private static void businessTransaction(
      JdbcTemplate jdbc, TransactionTemplate tx, ApplicationEventPublisher publisher, long n) {
    tx.executeWithoutResult(
        status -> {
          jdbc.update(Db.UPDATE_ACCOUNT, n % Db.ACCOUNTS);
          publisher.publishEvent(ModulithOrderEvent.of(n, 10_000));
          TransactionSynchronizationManager.registerSynchronization(
              new TransactionSynchronization() {
                @Override
                public int getOrder() {
                  return Ordered.HIGHEST_PRECEDENCE;
                }

                @Override
                public void afterCommit() {
                  timeline.committed(n, System.nanoTime());
                }
              });
        });
  }

  private static Map<String, Object> latency(
      JdbcTemplate jdbc,
      TransactionTemplate tx,
      ApplicationEventPublisher publisher,
      double rate,
      double seconds,
      double warmup,
      int workers) {
    int total = (int) (rate * seconds);
    // Warm-up, as for the outbox: 200 transactions, then the same load for `warmup` seconds, none
    // recorded, until Modulith has completed their publications.
    for (int i = 0; i < 200; i++) {
      businessTransaction(jdbc, tx, publisher, Timeline.WARM_UP_FROM + i);
    }
    LatencyCase.sleep(3000);
    OpenLoop.warmUp(
        rate,
        warmup,
        workers,
        n -> businessTransaction(jdbc, tx, publisher, n),
        () ->
            jdbc.queryForObject(
                    "SELECT count(*) FROM event_publication WHERE completion_date IS NULL",
                    Long.class)
                == 0);
    Child.emit("WINDOW-START");
    Map<String, Object> load =
        OpenLoop.run(
            rate,
            Duration.ofMillis((long) (seconds * 1000)),
            workers,
            n -> businessTransaction(jdbc, tx, publisher, n));
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (timeline.ackedCount() < (long) load.get("completed") && System.nanoTime() < deadline) {
      LatencyCase.sleep(20);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    Child.emit("WINDOW-END");
    out.put("rate", rate);
    out.put("load", load);
    out.put("latency", Pct.summary(timeline.latency(total / 5, total)));
    out.put("unacked", timeline.unacked(0, total));
    out.put("ackedWithin30sAfterLoad", timeline.ackedCount());
    return out;
  }

  private static Map<String, Object> drain(
      ConfigurableApplicationContext context,
      JdbcTemplate jdbc,
      TransactionTemplate tx,
      ApplicationEventPublisher publisher,
      int count) {
    // One event published the ordinary way shows the listener id and type Modulith stores.
    jdbc.update("DELETE FROM event_publication");
    businessTransaction(jdbc, tx, publisher, 0);
    long wait = System.nanoTime() + 30_000_000_000L;
    while (jdbc.queryForObject(
                "SELECT count(*) FROM event_publication WHERE completion_date IS NULL", Long.class)
            > 0
        && System.nanoTime() < wait) {
      LatencyCase.sleep(50);
    }
    jdbc.update(
        "INSERT INTO event_publication (id, listener_id, event_type, serialized_event,"
            + " publication_date, status, completion_attempts) SELECT gen_random_uuid(),"
            + " t.listener_id, t.event_type, "
            + OrderEvent.sqlJson("g::bigint", "10000")
            + ", now() + g * interval '1 microsecond', 'PUBLISHED', 0 FROM (SELECT"
            + " listener_id, event_type FROM event_publication LIMIT 1) t, generate_series(1, ?)"
            + " g",
        count);
    jdbc.update("DELETE FROM event_publication WHERE completion_date IS NOT NULL");
    jdbc.execute("ANALYZE event_publication");
    IncompleteEventPublications incomplete = context.getBean(IncompleteEventPublications.class);
    Child.emit("WINDOW-START");
    long start = System.nanoTime();
    Thread resubmit =
        new Thread(() -> incomplete.resubmitIncompletePublications(p -> true), "resubmit");
    resubmit.start();
    long deadline = start + 600_000_000_000L;
    long remaining = count;
    while (remaining > 0 && System.nanoTime() < deadline) {
      LatencyCase.sleep(200);
      remaining =
          jdbc.queryForObject(
              "SELECT count(*) FROM event_publication WHERE completion_date IS NULL", Long.class);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Child.emit("WINDOW-END");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("count", count);
    out.put("remaining", remaining);
    out.put("seconds", TxCostCase.round(seconds));
    out.put("rate", Math.round((count - remaining) / seconds));
    out.put("acked", timeline.ackedCount());
    return out;
  }

  /**
   * The application: auto-configuration only, plus the acknowledgement hook. Not a
   * {@code @Configuration}, so that {@link OutboxApp}'s component scan does not pick it up.
   */
  @EnableAutoConfiguration
  static class App {

    @Bean
    ProducerListener<Object, Object> kafkaProducerListener() {
      return new ProducerListener<>() {
        @Override
        public void onSuccess(ProducerRecord<Object, Object> record, RecordMetadata metadata) {
          if (record.value() instanceof byte[] bytes) {
            timeline.acked(OrderEvent.parseN(bytes), System.nanoTime());
          }
        }
      };
    }
  }
}
