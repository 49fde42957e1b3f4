package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.store.OutboxSchema;
import dev.outbox.store.PostgresOutboxRepository;
import dev.outbox.store.TableName;
import dev.outbox.test.TestPostgres;
import dev.outbox.transport.DeadLetter;
import dev.outbox.transport.OutboxTransport;
import java.sql.Connection;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Write-time checks against the real table: an invalid event fails before anything is written. */
class OutboxWriterIntegrationTests {

  private final String schema = TestPostgres.get().createSchema("writer");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository repository;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
  }

  @AfterEach
  void tearDown() {
    TestPostgres.get().dropSchema(schema);
  }

  private OutboxWriter writer(HeaderCapture capture, int maxPayloadBytes) {
    return new OutboxWriter(
        repository, Object::toString, capture, Clock.systemUTC(), maxPayloadBytes);
  }

  private long rows() {
    return TestPostgres.get().queryLong("SELECT count(*) FROM " + table);
  }

  @Test
  void aPayloadOverTheTransportLimitFailsTheCallBeforeAnythingIsWritten() throws Exception {
    OutboxWriter writer = writer(HeaderCapture.none(), 100);
    try (Connection connection = TestPostgres.get().connect()) {
      // Auto-commit: anything written before the check would stay in the table.
      connection.setAutoCommit(true);
      List<OutboxMessage> messages =
          List.of(
              OutboxMessage.of("orders", "k", "x".repeat(100)),
              OutboxMessage.of("orders", "k", "é".repeat(51)));
      assertThatThrownBy(() -> writer.write(connection, messages))
          .isInstanceOf(OutboxException.class)
          .as("a writer built without the starter names no property it does not have")
          .hasMessage(
              "Payload of event type String to 'orders' is 102 UTF-8 bytes, more than the limit"
                  + " of 100 bytes (the configured maximum payload size)");
    }
    assertThat(rows()).isZero();
  }

  /** Whoever configures the limit says what it is, e.g. the starter its property. */
  @Test
  void aPayloadOverTheLimitNamesTheLimitAsTheWritersCreatorDescribesIt() throws Exception {
    OutboxWriter writer =
        new OutboxWriter(
            repository,
            Object::toString,
            HeaderCapture.none(),
            Clock.systemUTC(),
            100,
            "outbox.max-payload-size");
    assertThat(writer.maxPayloadBytes()).isEqualTo(100);
    try (Connection connection = TestPostgres.get().connect()) {
      assertThatThrownBy(
              () ->
                  writer.write(
                      connection, List.of(OutboxMessage.of("orders", "k", "x".repeat(101)))))
          .isInstanceOf(OutboxException.class)
          .hasMessage(
              "Payload of event type String to 'orders' is 101 UTF-8 bytes, more than the limit"
                  + " of 100 bytes (outbox.max-payload-size)");
    }
    assertThat(rows()).isZero();
  }

  @Test
  void theTransportsDefaultLimitIsOneMebibyteAndAWriterWithoutALimitTakesAnyPayload()
      throws Exception {
    OutboxTransport transport =
        new OutboxTransport() {
          @Override
          public CompletableFuture<?> send(OutboxEvent event) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public CompletableFuture<?> sendToDeadLetter(OutboxEvent event, DeadLetter deadLetter) {
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public boolean isRetryable(Throwable failure) {
            return true;
          }

          @Override
          public String deadLetterDestination(OutboxEvent event) {
            return "dlt";
          }
        };
    assertThat(transport.maxPayloadBytes()).isEqualTo(1024 * 1024);

    OutboxWriter limited = writer(HeaderCapture.none(), transport.maxPayloadBytes());
    OutboxWriter unlimited =
        new OutboxWriter(repository, Object::toString, HeaderCapture.none(), Clock.systemUTC());
    assertThat(unlimited.maxPayloadBytes()).isEqualTo(Integer.MAX_VALUE);
    String twoMebibytes = "x".repeat(2 * 1024 * 1024);
    try (Connection connection = TestPostgres.get().connect()) {
      assertThatThrownBy(
              () ->
                  limited.write(connection, List.of(OutboxMessage.of("orders", "k", twoMebibytes))))
          .hasMessageContaining("more than the limit of 1048576 bytes");
      unlimited.write(connection, List.of(OutboxMessage.of("orders", "k", twoMebibytes)));
    }
    assertThat(rows()).isEqualTo(1);
  }

  @Test
  void capturedHeadersAreCheckedLikeTheEventsOwn() throws Exception {
    OutboxWriter writer = writer(() -> Map.of("ce_traceparent", "x"), 1000);
    try (Connection connection = TestPostgres.get().connect()) {
      connection.setAutoCommit(true);
      assertThatThrownBy(
              () -> writer.write(connection, List.of(OutboxMessage.of("orders", "k", "{}"))))
          .isInstanceOf(OutboxException.class)
          .hasMessageContaining("Invalid header name 'ce_traceparent' (captured by ")
          .hasMessageContaining("the prefix 'ce_' is reserved");
    }
    assertThat(rows()).isZero();
  }

  @Test
  void aSerializerReturningNullFailsNamingTheType() throws Exception {
    OutboxWriter writer =
        new OutboxWriter(repository, payload -> null, HeaderCapture.none(), Clock.systemUTC());
    try (Connection connection = TestPostgres.get().connect()) {
      assertThatThrownBy(
              () -> writer.write(connection, List.of(OutboxMessage.of("orders", "k", "{}"))))
          .isInstanceOf(OutboxException.class)
          .hasMessage(
              "The serializer returned null for the payload of event type String"
                  + " (java.lang.String)");
    }
    assertThat(rows()).isZero();
  }

  @Test
  void aNonPositivePayloadLimitIsRejected() {
    assertThatThrownBy(() -> writer(HeaderCapture.none(), 0))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Invalid outbox setting: maxPayloadBytes must be at least 1, was 0");
  }

  @Test
  void aBlankDescriptionOfThePayloadLimitIsRejected() {
    assertThatThrownBy(
            () ->
                new OutboxWriter(
                    repository,
                    Object::toString,
                    HeaderCapture.none(),
                    Clock.systemUTC(),
                    100,
                    " "))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Invalid outbox setting: maxPayloadDescription is blank");
  }
}
