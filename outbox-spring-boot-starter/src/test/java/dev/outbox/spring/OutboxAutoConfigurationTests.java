package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Outbox;
import dev.outbox.OutboxException;
import dev.outbox.relay.OutboxDefaults;
import dev.outbox.relay.OutboxRelay;
import dev.outbox.store.OutboxRepository;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.OutboxTransport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

class OutboxAutoConfigurationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("autoconfig");

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(OutboxAutoConfiguration.class))
          .withPropertyValues("outbox.table.schema=" + SCHEMA);

  private ApplicationContextRunner withDatabase() {
    return runner.withBean(DataSource.class, () -> TestPostgres.get().dataSource());
  }

  @Test
  void backsOffWithoutADataSource() {
    runner.run(context -> assertThat(context).doesNotHaveBean(Outbox.class));
  }

  @Test
  void backsOffWhenDisabled() {
    withDatabase()
        .withPropertyValues("outbox.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(Outbox.class));
  }

  @Test
  void writesWithoutARelayWhenNoTransportIsPresent() {
    withDatabase()
        .run(
            context -> {
              assertThat(context).hasSingleBean(Outbox.class);
              assertThat(context).hasSingleBean(OutboxRepository.class);
              assertThat(context).doesNotHaveBean(OutboxRelay.class);
            });
  }

  @Test
  void buildsTheRelayFromTheTransportBean() {
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .run(context -> assertThat(context).hasSingleBean(OutboxRelay.class));
  }

  @Test
  void noRelayWhenTheRelayIsDisabled() {
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .withPropertyValues("outbox.relay.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(OutboxRelay.class));
  }

  @Test
  void changeDataCaptureModeRunsNoRelay() {
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .withPropertyValues("outbox.cdc.enabled=true")
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(OutboxRelay.class);
              assertThat(context).hasSingleBean(Outbox.class);
            });
  }

  /**
   * The outbox (after a commit) and the endpoint (after a replay) wake the relays through one bean,
   * which answers no application's injection point of a JDK functional type.
   */
  @Test
  void theOutboxAndTheEndpointShareOneRelayWakeUpThatIsNoLongConsumer() {
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .run(
            context -> {
              assertThat(context).hasSingleBean(RelayWakeUp.class);
              assertThat(context).hasSingleBean(SpringOutbox.class);
              assertThat(context).hasSingleBean(OutboxEndpoint.class);
              String wakeUp = context.getBeanNamesForType(RelayWakeUp.class)[0];
              assertThat(context.getBeanFactory().getDependentBeans(wakeUp))
                  .as("the beans built with the wake-up")
                  .contains(
                      context.getBeanNamesForType(SpringOutbox.class)[0],
                      context.getBeanNamesForType(OutboxEndpoint.class)[0]);
              assertThat(context.getBeanNamesForType(LongConsumer.class)).isEmpty();
            });
  }

  @Test
  void backsOffWhenTheApplicationDefinesItsOwnOutbox() {
    Outbox own = messages -> List.of(UUID.randomUUID());
    withDatabase()
        .withBean(Outbox.class, () -> own)
        .run(context -> assertThat(context.getBean(Outbox.class)).isSameAs(own));
  }

  @Test
  void appliesCustomizersToTheRelay() {
    AtomicBoolean customized = new AtomicBoolean();
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .withBean(OutboxCustomizer.class, () -> relay -> customized.set(true))
        .run(
            context -> {
              assertThat(context).hasSingleBean(OutboxRelay.class);
              assertThat(customized).isTrue();
            });
  }

  @Test
  void theMaxErrorBackoffPropertyReachesTheRelay() {
    withDatabase()
        .withBean(OutboxTransport.class, RecordingTransport::new)
        .withPropertyValues("outbox.relay.max-error-backoff=750ms")
        .run(
            context ->
                assertThat(context.getBean(OutboxRelay.class).timing().maxErrorBackoff())
                    .isEqualTo(Duration.ofMillis(750)));
  }

  /**
   * Batch size and workers out of their documented ranges (1-10,000 and 1-16), a maximum error
   * backoff that is not positive: startup fails with the setting, its range and the value given; no
   * relay runs.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "outbox.relay.batch-size=0     | outbox.relay.batch-size must be 1..10000, was 0",
        "outbox.relay.batch-size=10001 | outbox.relay.batch-size must be 1..10000, was 10001",
        "outbox.relay.workers=0        | outbox.relay.workers must be 1..16, was 0",
        "outbox.relay.workers=17       | outbox.relay.workers must be 1..16, was 17",
        "outbox.relay.max-error-backoff=0s | outbox.relay.max-error-backoff must be positive, was PT0S",
        "outbox.relay.poll-interval=0s | outbox.relay.poll-interval must be positive, was PT0S",
        "outbox.relay.publish-timeout=0s | outbox.relay.publish-timeout must be positive, was PT0S",
        "outbox.relay.lease-timeout=2s | outbox.relay.lease-timeout (2000 ms) must be at least 3 x pollInterval (1000 ms): leases are renewed once per poll interval"
      })
  void aRelaySettingOutOfRangeFailsStartupNamingThePropertyAndValue(
      String property, String message) {
    failsStartupWith(
        withDatabase()
            .withBean(OutboxTransport.class, RecordingTransport::new)
            .withPropertyValues(property),
        "Invalid outbox setting: " + message);
  }

  /** With a customizer, the error cannot tell whether the property or the customizer set it. */
  @Test
  void aRelaySettingOutOfRangeWithACustomizerSaysEitherMaySetIt() {
    failsStartupWith(
        withDatabase()
            .withBean(OutboxTransport.class, RecordingTransport::new)
            .withBean(OutboxCustomizer.class, () -> builder -> builder.workers(0)),
        "Invalid outbox setting: outbox.relay.workers (or the value an OutboxCustomizer set) must"
            + " be 1..16, was 0");
  }

  private static void failsStartupWith(ApplicationContextRunner runner, String message) {
    runner.run(
        context ->
            assertThat(context)
                .getFailure()
                .rootCause()
                .isInstanceOf(OutboxException.class)
                .hasMessage(message));
  }

  /**
   * Retry settings out of range fail startup naming the property, its range and the value, also in
   * an instance without a relay (no transport here), which would otherwise accept them silently.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "outbox.retry.max-attempts=0     | outbox.retry.max-attempts must be at least 1, was 0",
        "outbox.retry.initial-backoff=-1s | outbox.retry.initial-backoff must be 0 or more, was"
            + " PT-1S",
        "outbox.retry.max-backoff=100ms  | outbox.retry.max-backoff must be at least"
            + " outbox.retry.initial-backoff (PT1S), was PT0.1S",
        "outbox.retry.multiplier=0.5     | outbox.retry.multiplier must be at least 1, was 0.5",
        "outbox.retry.jitter=1.5         | outbox.retry.jitter must be between 0 and 1, was 1.5",
        "outbox.retry.max-age=-1m        | outbox.retry.max-age must be 0 (no limit) or more, was"
            + " PT-1M"
      })
  void aRetrySettingOutOfRangeFailsStartupNamingTheProperty(String property, String message) {
    failsStartupWith(
        withDatabase().withPropertyValues(property), "Invalid outbox setting: " + message);
  }

  @Test
  void aPayloadLargerThanTheConfiguredMaximumFailsTheWriteNamingBothSizes() {
    DataSource dataSource = TestPostgres.get().dataSource();
    runner
        .withBean(DataSource.class, () -> dataSource)
        .withBean(
            PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource))
        .withPropertyValues("outbox.max-payload-size=100B")
        .run(
            context -> {
              Outbox outbox = context.getBean(Outbox.class);
              TransactionTemplate transactions =
                  new TransactionTemplate(context.getBean(PlatformTransactionManager.class));
              assertThatThrownBy(
                      () ->
                          transactions.executeWithoutResult(
                              status -> outbox.publish("orders", "k", "x".repeat(200))))
                  .isInstanceOf(OutboxException.class)
                  .hasMessage(
                      "Payload of event type String to 'orders' is 202 UTF-8 bytes, more than the"
                          + " limit of 100 bytes (outbox.max-payload-size)");
            });
  }

  /**
   * Without {@code outbox.max-payload-size} the limit is the transport's (or, without a transport,
   * the default), and the message says so and that the property is not set.
   */
  @Test
  void aPayloadLargerThanTheTransportAcceptsFailsTheWriteSayingThePropertyIsNotSet() {
    DataSource dataSource = TestPostgres.get().dataSource();
    ApplicationContextRunner transactional =
        runner
            .withBean(DataSource.class, () -> dataSource)
            .withBean(
                PlatformTransactionManager.class,
                () -> new DataSourceTransactionManager(dataSource));
    transactional
        .withBean(
            OutboxTransport.class,
            () ->
                new RecordingTransport() {
                  @Override
                  public int maxPayloadBytes() {
                    return 100;
                  }
                })
        .run(
            context ->
                assertThatThrownBy(() -> publish(context, "x".repeat(200)))
                    .isInstanceOf(OutboxException.class)
                    .hasMessage(
                        "Payload of event type String to 'orders' is 202 UTF-8 bytes, more than"
                            + " the limit of 100 bytes (the largest message the transport"
                            + " accepts; outbox.max-payload-size is not set)"));
    transactional.run(
        context ->
            assertThatThrownBy(() -> publish(context, "x".repeat(OutboxDefaults.MAX_PAYLOAD_BYTES)))
                .isInstanceOf(OutboxException.class)
                .hasMessage(
                    "Payload of event type String to 'orders' is "
                        + (OutboxDefaults.MAX_PAYLOAD_BYTES + 2)
                        + " UTF-8 bytes, more than the limit of "
                        + OutboxDefaults.MAX_PAYLOAD_BYTES
                        + " bytes (the default maximum payload size; outbox.max-payload-size is"
                        + " not set)"));
  }

  private static void publish(ApplicationContext context, String payload) {
    new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
        .executeWithoutResult(
            status -> context.getBean(Outbox.class).publish("orders", "k", payload));
  }

  @Test
  void registersMetricsWhenAMeterRegistryExists() {
    withDatabase()
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              assertThat(context).hasSingleBean(MicrometerRelayListener.class);
              assertThat(context.getBean(MeterRegistry.class).find("outbox.events.pending").gauge())
                  .isNotNull();
            });
  }

  @Test
  void startsWithoutMicrometerOrActuatorOnTheClasspath() {
    withDatabase()
        .withClassLoader(
            new FilteredClassLoader(
                "io.micrometer",
                "org.springframework.boot.health",
                "org.springframework.boot.actuate"))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(MicrometerRelayListener.class);
              assertThat(context).doesNotHaveBean(OutboxHealthIndicator.class);
              assertThat(context).hasSingleBean(Outbox.class);
            });
  }
}
