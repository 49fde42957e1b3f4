package dev.outbox.examples.saga;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.examples.order.OrderStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Runs the saga demo as the README command does — both services, each on its own embedded
 * PostgreSQL, one embedded Kafka broker, every message delivered twice — and checks its result; and
 * the same over RabbitMQ ({@code --saga.transport=rabbit}), in a virtual host of the test's own.
 */
class SagaDemoIntegrationTests {

  @TempDir Path directory;

  @ParameterizedTest
  @EnumSource(SagaTransport.class)
  void acceptedAndRejectedOrdersReachTheirEndStateUnderDuplicateDeliveries(SagaTransport transport)
      throws Exception {
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    SagaDemo.Result result;
    String idName;
    try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        TestBroker broker = TestBroker.of(transport)) {
      idName = broker.idName();
      result =
          new SagaDemo(out, Duration.ofSeconds(120), directory, transport, broker.arguments())
              .run();
    }
    String printed = output.toString(StandardCharsets.UTF_8);
    System.out.println(printed);

    assertThat(result.succeeded()).as(printed).isTrue();
    assertThat(result.actual()).isEqualTo(result.expected());
    Map<OrderStatus, Long> outcomes =
        result.actual().values().stream()
            .collect(Collectors.groupingBy(status -> status, Collectors.counting()));
    assertThat(outcomes)
        .containsEntry(OrderStatus.CONFIRMED, 4L)
        .containsEntry(OrderStatus.CANCELLED, 3L);

    // Every message was delivered twice, and each inbox skipped every second delivery.
    assertThat(result.duplicatesInjected()).isEqualTo(14);
    assertThat(result.inventoryDuplicatesSkipped()).isEqualTo(7);
    assertThat(result.orderDuplicatesSkipped()).isEqualTo(7);

    // The stock adds up: reserved once per confirmed order, never for a cancelled one.
    assertThat(result.stock())
        .extracting(level -> level.product() + "=" + level.available() + "/" + level.initial())
        .containsExactlyInAnyOrder(
            "espresso beans=5/10", "green tea=0/5", "oat milk=3/3", "hot chocolate=0/0");
    Map<UUID, OrderStatus> confirmed =
        result.actual().entrySet().stream()
            .filter(e -> e.getValue() == OrderStatus.CONFIRMED)
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    assertThat(result.reservations().keySet()).isEqualTo(confirmed.keySet());

    assertThat(printed)
        .contains("skipped OrderPlaced: " + idName + " already in its inbox")
        .contains("skipped StockRejected: " + idName + " already in its inbox")
        .contains("CANCELLED (unknown product)")
        .contains("=== Saga OK");
  }

  /**
   * The checks catch what the inbox prevents: with it switched off, duplicates are handled again (a
   * rejected order is answered twice), so the run must fail.
   */
  @ParameterizedTest
  @EnumSource(SagaTransport.class)
  void failsWhenTheInboxIsSwitchedOff(SagaTransport transport) throws Exception {
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    SagaDemo.Result result;
    try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
        TestBroker broker = TestBroker.of(transport)) {
      result =
          new SagaDemo(
                  out,
                  Duration.ofSeconds(20),
                  directory,
                  transport,
                  broker.arguments("--outbox.inbox.enabled=false"))
              .run();
    }
    String printed = output.toString(StandardCharsets.UTF_8);
    System.out.println(printed);

    assertThat(result.succeeded()).as(printed).isFalse();
    assertThat(printed)
        .containsPattern("FAILED inventory-service answered each of the 7 orders once: .*2")
        .contains("=== Saga FAILED");
  }
}
