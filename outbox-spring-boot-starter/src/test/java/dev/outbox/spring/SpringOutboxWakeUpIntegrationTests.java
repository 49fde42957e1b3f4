package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.HeaderCapture;
import dev.outbox.OutboxWriter;
import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.Slots;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.DefaultTransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The relay is woken once per committing transaction that wrote events, with exactly the slots that
 * transaction wrote: not for a rollback, not twice for two writes, and not with the slots of a
 * transaction suspended around it ({@code REQUIRES_NEW}) or run before it on the same thread.
 */
class SpringOutboxWakeUpIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("wakeup");
  private final TableName table = TableName.of(schema, "outbox_event");
  private final DataSource dataSource = TestPostgres.get().dataSource();
  private final List<Long> wakeUps = new CopyOnWriteArrayList<>();
  private final TransactionTemplate required =
      new TransactionTemplate(new JdbcTransactionManager(dataSource));
  private final TransactionTemplate requiresNew =
      new TransactionTemplate(
          required.getTransactionManager(),
          new DefaultTransactionDefinition(TransactionDefinition.PROPAGATION_REQUIRES_NEW));
  private SpringOutbox outbox;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(dataSource, table);
    OutboxWriter writer =
        new OutboxWriter(
            new PostgresOutboxRepository(dataSource, table),
            Object::toString,
            HeaderCapture.none(),
            Clock.systemUTC());
    outbox = new SpringOutbox(dataSource, writer, wakeUps::add);
  }

  @AfterEach
  void tearDown() {
    TestPostgres.get().dropSchema(schema);
  }

  /** Publishes one event with the key and returns the bit of the slot it was written to. */
  private long publish(String key) {
    UUID id = outbox.publish("orders", key, "{}");
    return Slots.bit(Slots.of(key, id));
  }

  /**
   * Registers, ahead of the outbox's own synchronization, one that publishes an event of the key in
   * a new transaction once the current one completes, as an after-commit or after-rollback listener
   * with {@code REQUIRES_NEW} does; the slot bit of that event goes to {@code slot[0]}.
   */
  private void publishInANewTransactionAfterCompletion(String key, long[] slot) {
    TransactionSynchronizationManager.registerSynchronization(
        new TransactionSynchronization() {
          @Override
          public void afterCompletion(int status) {
            slot[0] = requiresNew.execute(inner -> publish(key));
          }
        });
  }

  @Test
  void oneCommitWakesOnceWithTheSlotsOfEveryEventItWrote() {
    long slots = required.execute(status -> publish("a") | publish("b") | publish("c"));

    assertThat(wakeUps).containsExactly(slots);
  }

  @Test
  void aRollbackWakesNothingAndTheNextTransactionWakesWithOnlyItsOwnSlots() {
    required.executeWithoutResult(
        status -> {
          publish("rolled-back");
          status.setRollbackOnly();
        });
    assertThat(wakeUps).isEmpty();

    long second = required.execute(status -> publish("second"));
    long third = required.execute(status -> publish("third"));

    assertThat(wakeUps).containsExactly(second, third);
  }

  @Test
  void anExceptionRollsBackAndLeavesNothingBoundForTheNextTransaction() {
    assertThatThrownBy(
            () ->
                required.executeWithoutResult(
                    status -> {
                      publish("failed");
                      throw new IllegalStateException("the business step failed");
                    }))
        .hasMessage("the business step failed");

    long next = required.execute(status -> publish("next"));

    assertThat(wakeUps).containsExactly(next);
  }

  @Test
  void aTransactionSuspendedAroundAnInnerOneWakesWithItsOwnSlotsAfterTheInnerOneDid() {
    long[] inner = new long[1];
    long outer =
        required.execute(
            status -> {
              long before = publish("outer-1");
              inner[0] = requiresNew.execute(innerStatus -> publish("inner"));
              // The inner transaction has committed and woken the relay for its own event only.
              assertThat(wakeUps).containsExactly(inner[0]);
              return before | publish("outer-2");
            });

    assertThat(wakeUps).containsExactly(inner[0], outer);
  }

  /**
   * What a {@code @TransactionalEventListener} (phase {@code AFTER_COMMIT}, run in {@code
   * afterCompletion}) with {@code REQUIRES_NEW} does: a synchronization registered before the
   * outbox's own starts a new transaction after the first one committed and publishes in it.
   */
  @Test
  void aTransactionStartedAfterTheCommitOfAnotherWakesForItsOwnEvents() {
    long[] afterwards = new long[1];
    long first =
        required.execute(
            status -> {
              publishInANewTransactionAfterCompletion("after-commit", afterwards);
              return publish("first");
            });

    assertThat(wakeUps).containsExactly(first, afterwards[0]);
  }

  /** The same after a rollback ({@code AFTER_ROLLBACK} listeners run there too). */
  @Test
  void aTransactionStartedAfterTheRollbackOfAnotherWakesForItsOwnEvents() {
    long[] afterwards = new long[1];
    required.executeWithoutResult(
        status -> {
          publishInANewTransactionAfterCompletion("after-rollback", afterwards);
          publish("rolled-back");
          status.setRollbackOnly();
        });

    assertThat(wakeUps).containsExactly(afterwards[0]);
  }

  @Test
  void anInnerTransactionThatRollsBackDoesNotTakeTheOuterOnesWakeUpWithIt() {
    long outer =
        required.execute(
            status -> {
              long before = publish("outer-1");
              requiresNew.executeWithoutResult(
                  innerStatus -> {
                    publish("inner");
                    innerStatus.setRollbackOnly();
                  });
              return before | publish("outer-2");
            });

    assertThat(wakeUps).containsExactly(outer);
  }
}
