package dev.outbox.testing;

import static dev.outbox.testing.OutboxAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.Outbox;
import dev.outbox.OutboxEvent;
import dev.outbox.spring.OutboxAutoConfiguration;
import dev.outbox.spring.OutboxRelayControl;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The test kit's drain, table view and duplicate mode with the real relay on real PostgreSQL. The
 * relay polls once an hour here, and renews its leases (which also finds pending events) no more
 * often than every six minutes, so a prompt drain proves the relay is woken: with the relay's
 * wake-up removed, three of its tests time out.
 */
class OutboxTestKitIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("tk_kit");

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  private final DataSource dataSource = TestPostgres.get().dataSource();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  OutboxTestTransportAutoConfiguration.class,
                  OutboxAutoConfiguration.class,
                  OutboxTestKitAutoConfiguration.class))
          .withPropertyValues(
              "outbox.table.schema=" + SCHEMA,
              "outbox.relay.poll-interval=1h",
              "outbox.relay.notify=false")
          .withBean(DataSource.class, () -> dataSource)
          .withBean(
              PlatformTransactionManager.class, () -> new DataSourceTransactionManager(dataSource));

  @Test
  void drainPublishesWhatWasCommittedBeforeItReturns() {
    runner.run(
        context -> {
          OutboxTestKit kit = context.getBean(OutboxTestKit.class);
          kit.table().deleteAll();
          write(context, "drain-1", "drain-2");

          kit.drain(Duration.ofSeconds(30));

          assertThat(kit.pending()).isEmpty();
          assertThat(context.getBean(CapturingOutboxTransport.class).published())
              .hasPublished("Note")
              .withKey("drain-1")
              .and()
              .hasPublished("Note")
              .withKey("drain-2")
              .withPayloadAt("/text", "drain-2");
        });
  }

  @Test
  void drainFailsListingTheEventsThatWereNotPublished() {
    runner
        .withBean(OutboxTransport.class, RefusingTransport::new)
        .withPropertyValues("outbox.retry.initial-backoff=100ms", "outbox.retry.max-attempts=1000")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              assertThat(kit.isCapturing()).as("the test's own transport wins").isFalse();
              write(context, "stuck-1");

              assertThatThrownBy(() -> kit.drain(Duration.ofSeconds(3)))
                  .isInstanceOf(AssertionError.class)
                  .hasMessageStartingWith(
                      "The outbox relay did not publish 1 event within PT3S; still pending:\n"
                          + "  Note v1 to notes key=stuck-1 payload={\"text\":\"stuck-1\"}")
                  .hasMessageContaining(" attempts=")
                  .hasMessageContaining(
                      "lastError=IllegalStateException: the broker refused stuck-1");
              assertThatThrownBy(kit::published)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("published() needs outbox.test.capture=true");
              assertThatThrownBy(kit::deadLettered)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessageContaining("deadLettered() needs outbox.test.capture=true");
              kit.table().deleteAll();
            });
  }

  @Test
  void withoutARelayTheTableShowsWhatTheTransactionWrote() {
    runner
        .withPropertyValues("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              write(context, "table-1");
              rollBack(context, "rolled-back");

              assertThat(kit.pending())
                  .hasSize(1)
                  .hasPublished("Note")
                  .to("notes")
                  .withKey("table-1")
                  .withPayload("{\"text\":\"table-1\"}");
              assertThat(kit.dead()).isEmpty();
              assertThatThrownBy(kit::drain)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessage(
                      "drain() needs an outbox relay, and this application runs none: it needs"
                          + " an OutboxTransport bean, outbox.relay.enabled=true and"
                          + " outbox.cdc.enabled=false");
              assertThat(kit.table().deleteAll()).isEqualTo(1);
            });
  }

  /**
   * With outbox.relay.dead-event-blocks-key, an event behind a dead event of its key waits until
   * that one is replayed or discarded: drain's failure says so, instead of listing it as an event
   * the relay did not publish, with no attempt and no error.
   */
  @Test
  void drainNamesTheDeadEventThatHoldsBackAPendingOne() {
    runner
        .withBean(OutboxTransport.class, PoisonRefusingTransport::new)
        .withPropertyValues("outbox.relay.dead-event-blocks-key=true")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              Outbox outbox = context.getBean(Outbox.class);
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      status -> {
                        outbox.publish("notes", "held", new Note("poison"));
                        outbox.publish("notes", "held", new Note("after"));
                      });

              assertThatThrownBy(() -> kit.drain(Duration.ofSeconds(3)))
                  .isInstanceOf(AssertionError.class)
                  .hasMessageContaining("Note v1 to notes key=held payload={\"text\":\"after\"}")
                  .hasMessageContaining(
                      "(behind the dead event "
                          + kit.dead().list().get(0).id()
                          + " of its key: with outbox.relay.dead-event-blocks-key=true it waits"
                          + " until that one is replayed or discarded)");
              kit.table().deleteAll();
            });
  }

  /**
   * deadLettered() lists what the relay sent to the capturing transport's dead-letter destination,
   * as written; the table keeps the row as DEAD. Both answer without waiting: the drain before them
   * returns once nothing is pending. The kit forgets the dead letters before the next test.
   */
  @Test
  void deadLetteredListsWhatTheRelaySentToTheDeadLetterDestination() {
    runner
        .withBean(OutboxTransport.class, PoisonRefusingTransport::new)
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              assertThat(kit.isCapturing()).as("a CapturingOutboxTransport of the test's").isTrue();
              Outbox outbox = context.getBean(Outbox.class);
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      status -> {
                        outbox.publish("notes", "bad", new Note("poison"));
                        outbox.publish("notes", "good", new Note("fine"));
                      });

              kit.drain(Duration.ofSeconds(30));

              assertThat(kit.deadLettered())
                  .hasSize(1)
                  .hasPublished("Note")
                  .to("notes")
                  .withKey("bad")
                  .withPayloadAt("/text", "poison");
              assertThat(kit.dead().ids()).isEqualTo(kit.deadLettered().ids());
              assertThat(kit.published()).hasSize(1).hasPublished("Note").withKey("good");

              kit.reset();
              assertThat(kit.deadLettered()).isEmpty();
              kit.table().deleteAll();
            });
  }

  /**
   * Without a relay nothing is ever captured: published() refuses instead of answering an empty
   * list, which an {@code isEmpty()} assertion would take for "nothing was written".
   */
  @Test
  void publishedWithoutARelayFailsInsteadOfAnsweringNothing() {
    runner
        .withPropertyValues("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              write(context, "unpublished");

              assertThatThrownBy(kit::published)
                  .isInstanceOf(IllegalStateException.class)
                  .hasMessage(
                      "published() lists what the outbox relay published, and this application"
                          + " runs none (outbox.relay.enabled=false or outbox.cdc.enabled=true):"
                          + " nothing is published; read the events written with pending()");
              assertThat(kit.pending()).hasPublished("Note").withKey("unpublished").once();
              kit.table().deleteAll();
            });
  }

  /**
   * In a {@code @Transactional} test the events the test's transaction wrote are not published
   * before it ends: published() says so, instead of an empty list ("there were no events").
   */
  @Test
  void publishedInsideTheTransactionThatWroteTheEventsSaysTheyAreNotCommitted() {
    runner.run(
        context -> {
          OutboxTestKit kit = context.getBean(OutboxTestKit.class);
          kit.table().deleteAll();
          write(context, "committed-before");
          new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
              .executeWithoutResult(
                  status -> {
                    // what was committed before is published and seen as usual
                    assertThat(kit.published()).hasPublished("Note").withKey("committed-before");

                    context.getBean(Outbox.class).publish("notes", "in-tx", new Note("in-tx"));
                    assertThatThrownBy(kit::published)
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageStartingWith(
                            "published() runs inside the transaction that wrote 1 event, which"
                                + " is published only after that transaction commits (a"
                                + " @Transactional test rolls back): assert on pending() inside"
                                + " it, or let the code under test commit; not committed:")
                        .hasMessageContaining("Note v1 to notes key=in-tx");
                    status.setRollbackOnly();
                  });
          assertThat(kit.pending()).isEmpty();
        });
  }

  @Test
  void insideATransactionTheTableShowsItsUncommittedEvents() {
    runner
        .withPropertyValues("outbox.relay.enabled=false")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
                  .executeWithoutResult(
                      status -> {
                        context.getBean(Outbox.class).publish("notes", "in-tx", new Note("in-tx"));
                        assertThat(kit.pending()).hasPublished("Note").withKey("in-tx");
                        status.setRollbackOnly();
                      });
              assertThat(kit.pending()).isEmpty();
            });
  }

  @Test
  void duplicateModeDeliversEachEventTwiceWithTheSameId() {
    runner
        .withPropertyValues("outbox.test.duplicate-copies=2")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              assertThat(context.getBean(OutboxTransport.class))
                  .isInstanceOf(DuplicatingOutboxTransport.class);
              write(context, "twice");

              OutboxEvents published = kit.published();

              assertThat(published).hasPublished("Note").withKey("twice").times(2);
              assertThat(published.ids().get(0)).isEqualTo(published.ids().get(1));
            });
  }

  @Test
  void delayedDuplicatesFollowOnTheirOwn() {
    runner
        .withPropertyValues("outbox.test.duplicate-copies=2", "outbox.test.duplicate-delay=200ms")
        .run(
            context -> {
              OutboxTestKit kit = context.getBean(OutboxTestKit.class);
              kit.table().deleteAll();
              write(context, "later");

              kit.drain();

              assertThat(kit.pending()).isEmpty();
              org.awaitility.Awaitility.await()
                  .atMost(Duration.ofSeconds(30))
                  .until(() -> kit.published().size() == 2);
              assertThat(kit.published()).hasPublished("Note").withKey("later").times(2);
            });
  }

  @Test
  void publishedDoesNotDrainAPausedRelay() {
    runner.run(
        context -> {
          OutboxTestKit kit = context.getBean(OutboxTestKit.class);
          kit.table().deleteAll();
          context.getBean(OutboxRelayControl.class).pause();
          write(context, "paused");

          assertThat(kit.published()).isEmpty();
          assertThat(kit.pending()).hasPublished("Note").withKey("paused");

          context.getBean(OutboxRelayControl.class).resume();
          assertThat(kit.published()).hasPublished("Note").withKey("paused").once();
        });
  }

  @Test
  void aBadDrainTimeoutIsRejectedAtStartup() {
    runner
        .withPropertyValues("outbox.test.drain-timeout=0s")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessage("outbox.test.drain-timeout must be positive, was PT0S"));
  }

  @Test
  void outOfRangeDuplicateSettingsFailTheContextNamingTheProperty() {
    runner
        .withPropertyValues("outbox.test.duplicate-copies=11")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "outbox.test.duplicate-copies must be between 2 and 10 to duplicate"
                            + " deliveries, was 11"));
    runner
        .withPropertyValues("outbox.test.duplicate-copies=2", "outbox.test.duplicate-delay=-1s")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessage("outbox.test.duplicate-delay must not be negative, was PT-1S"));
  }

  record Note(String text) {}

  private static void write(ApplicationContext context, String... keys) {
    Outbox outbox = context.getBean(Outbox.class);
    new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
        .executeWithoutResult(
            status -> {
              for (String key : keys) {
                outbox.publish("notes", key, new Note(key));
              }
            });
  }

  private static void rollBack(ApplicationContext context, String key) {
    new TransactionTemplate(context.getBean(PlatformTransactionManager.class))
        .executeWithoutResult(
            status -> {
              context.getBean(Outbox.class).publish("notes", key, new Note(key));
              status.setRollbackOnly();
            });
  }

  /** A broker that refuses the payload "poison" for good and takes its dead letter. */
  static class PoisonRefusingTransport extends CapturingOutboxTransport {

    @Override
    public CompletableFuture<?> send(OutboxEvent event) {
      if (event.payload().contains("poison")) {
        return CompletableFuture.failedFuture(new IllegalArgumentException("poison"));
      }
      return super.send(event);
    }

    @Override
    public boolean isRetryable(Throwable failure) {
      return false;
    }
  }

  /** A broker that refuses every event, so nothing can be published. */
  static class RefusingTransport implements OutboxTransport {

    @Override
    public CompletableFuture<?> send(OutboxEvent event) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("the broker refused " + event.key()));
    }

    @Override
    public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
      return CompletableFuture.failedFuture(new IllegalStateException("no dead letters either"));
    }

    @Override
    public boolean isRetryable(Throwable failure) {
      return true;
    }

    @Override
    public String deadLetterDestination(OutboxEvent event) {
      return event.destination() + ".dlt";
    }
  }
}
