package dev.outbox.testing;

import static dev.outbox.testing.OutboxAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.EventType;
import dev.outbox.OutboxEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class OutboxAssertionsTests {

  @EventType(name = "StockReserved", version = 2)
  record Reserved(String orderId) {}

  private static OutboxEvent event(
      String type, String destination, String key, String payload, Map<String, String> headers) {
    return new OutboxEvent(
        UUID.fromString("0190a000-0000-7000-8000-00000000000" + (key.length() % 10)),
        0,
        destination,
        key,
        null,
        type,
        type.equals("StockReserved") ? 2 : 1,
        payload,
        headers,
        Instant.EPOCH,
        0);
  }

  private final List<OutboxEvent> events =
      List.of(
          event("OrderPlaced", "orders", "o-1", "{\"orderId\":\"o-1\",\"total\":42.5}", Map.of()),
          event("OrderPlaced", "orders", "o-2", "{\"orderId\":\"o-2\",\"total\":10}", Map.of()),
          event("StockReserved", "stock", "o-1", "{\"orderId\":\"o-1\"}", Map.of("tenant", "a")));

  @Test
  void conditionsNarrowTheEventsOfAType() {
    assertThat(events)
        .hasSize(3)
        .hasTypes("OrderPlaced", "OrderPlaced", "StockReserved")
        .hasPublished("OrderPlaced")
        .times(2)
        .to("orders")
        .withKey("o-2")
        .withVersion(1)
        .withPayloadAt("/total", 10L)
        .withPayload("{ \"total\": 10, \"orderId\": \"o-2\" }")
        .once()
        .and()
        .hasPublished(Reserved.class)
        .withVersion(2)
        .withHeader("tenant", "a")
        .matching("for order o-1", e -> e.payload().contains("o-1"));
  }

  @Test
  void numbersInAPayloadCompareByValue() {
    assertThat(events).hasPublished("OrderPlaced").withPayloadAt("/total", 42.50);
    assertThat(events)
        .hasPublished("OrderPlaced")
        .withPayloadAt("/total", new java.math.BigDecimal("42.5"));
  }

  @Test
  void aMissingTypeListsTheEventsThatWereWritten() {
    assertThatThrownBy(() -> assertThat(events).hasPublished("OrderShipped"))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("Expected an event OrderShipped, but none of these matched:")
        .hasMessageContaining(
            "\n  OrderPlaced v1 to orders key=o-1 payload={\"orderId\":\"o-1\",\"total\":42.5}"
                + " headers={} id=")
        .hasMessageContaining("\n      (type was OrderPlaced)")
        .hasMessageContaining("\n      (type was StockReserved)");
  }

  @Test
  void eachEventShowsTheFirstConditionItMissed() {
    assertThatThrownBy(
            () ->
                assertThat(events)
                    .hasPublished("OrderPlaced")
                    .to("orders")
                    .withPayloadAt("/total", 11))
        .hasMessageContaining(
            "Expected an event OrderPlaced to \"orders\" with payload /total = 11")
        .hasMessageContaining("(payload /total was 42.5)")
        .hasMessageContaining("(payload /total was 10)")
        .hasMessageContaining("(type was StockReserved)");
    assertThatThrownBy(
            () -> assertThat(events).hasPublished("StockReserved").withHeader("tenant", "b"))
        .hasMessageContaining("(header tenant was \"a\")");
    assertThatThrownBy(
            () -> assertThat(events).hasPublished("OrderPlaced").withPayloadAt("/missing", 1))
        .hasMessageContaining("(payload /missing was missing)");
    assertThatThrownBy(
            () ->
                assertThat(events).hasPublished("OrderPlaced").withPayload("{\"orderId\":\"o-3\"}"))
        .hasMessageContaining("with payload {\"orderId\":\"o-3\"}")
        .hasMessageContaining("(payload was {\"orderId\":\"o-1\",\"total\":42.5})");
  }

  @Test
  void countsAndAbsenceFailWithTheEventsFound() {
    assertThatThrownBy(() -> assertThat(events).hasPublished("OrderPlaced").once())
        .hasMessageStartingWith("Expected an event OrderPlaced exactly once, but 2 matched:")
        .hasMessageContaining("key=o-1")
        .hasMessageContaining("key=o-2");
    assertThatThrownBy(() -> assertThat(events).hasNotPublished("StockReserved"))
        .hasMessageStartingWith(
            "Expected no StockReserved event, but found 1:\n  StockReserved v2");
    assertThatThrownBy(() -> assertThat(events).isEmpty())
        .hasMessageStartingWith("Expected no events, but found 3:");
    assertThatThrownBy(() -> assertThat(events).hasSize(1))
        .hasMessageStartingWith("Expected 1 event, but found 3:");
    assertThatThrownBy(() -> assertThat(events).hasTypes("OrderPlaced"))
        .hasMessageStartingWith(
            "Expected the event types [OrderPlaced] in this order, but found [OrderPlaced,"
                + " OrderPlaced, StockReserved]:");
    assertThatThrownBy(() -> assertThat(List.of()).hasPublished("OrderPlaced"))
        .hasMessage("Expected an event OrderPlaced, but there were no events");
  }

  @Test
  void percentSignsInPayloadsAreShownAsWritten() {
    List<OutboxEvent> withPercent =
        List.of(event("Discounted", "orders", "o-1", "{\"off\":\"10%s\"}", Map.of()));
    assertThatThrownBy(() -> assertThat(withPercent).hasPublished("Discounted").withKey("o-9"))
        .hasMessageContaining("payload={\"off\":\"10%s\"}");
  }

  @Test
  void badArgumentsAreRejectedWithWhatWasWrong() {
    assertThatThrownBy(
            () -> assertThat(events).hasPublished("OrderPlaced").withPayloadAt("total", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A JSON Pointer starts with '/', e.g. \"/orderId\"; was \"total\"");
    assertThatThrownBy(
            () -> assertThat(events).hasPublished("OrderPlaced").withPayload("{not json"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the expected payload is not JSON: {not json");
  }

  @Test
  void readsThePayloadOfTheMatchingEvent() {
    record Placed(String orderId, double total) {}
    Placed placed =
        assertThat(events).hasPublished("OrderPlaced").withKey("o-1").payload(Placed.class);
    assertThat(placed).isEqualTo(new Placed("o-1", 42.5));
  }

  @Test
  void eventsFilterByTypeDestinationAndKey() {
    OutboxEvents all = OutboxEvents.of(events);
    assertThat(all.ofType("OrderPlaced").withKey("o-1").size()).isEqualTo(1);
    assertThat(all.to("stock").types()).containsExactly("StockReserved");
    assertThat(all.withKey("o-1").ids()).hasSize(2);
  }
}
