package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What {@link OutboxMessage} and {@link EventTypes} accept, and the errors for what they do not.
 */
class EventLimitsTests {

  private static OutboxMessage message(String destination, String key) {
    return OutboxMessage.of(destination, key, "payload");
  }

  @Test
  void keysUpToTheLimitInUtf8BytesAreAcceptedAndLongerOnesNamedWithTheLimit() {
    String max = "é".repeat(EventLimits.MAX_KEY_BYTES / 2); // 2 bytes each
    assertThat(max.getBytes(StandardCharsets.UTF_8)).hasSize(EventLimits.MAX_KEY_BYTES);
    assertThatCode(() -> message("orders", max)).doesNotThrowAnyException();

    assertThatThrownBy(() -> message("orders", max + "x"))
        .isInstanceOf(OutboxException.class)
        .hasMessageStartingWith("Invalid key 'éééé")
        .hasMessageContaining("(destination 'orders')")
        .hasMessageContaining("1025 UTF-8 bytes, more than the limit of 1024 bytes");
    assertThatThrownBy(() -> message("orders", "x".repeat(3000)))
        .hasMessageContaining("3000 UTF-8 bytes, more than the limit of 1024 bytes");
  }

  @Test
  void aKeyWithU0000IsRejected() {
    assertThatThrownBy(() -> message("orders", "a\0b"))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid key 'a\\u0000b' (destination 'orders'): contains U+0000 at index 1, which"
                + " PostgreSQL text cannot store");
  }

  @Test
  void emptyKeyMeansUnordered() {
    assertThat(message("orders", "").key()).isNull();
  }

  @Test
  void destinationsOfKafkaAndRabbitMqAreAccepted() {
    for (String destination :
        new String[] {
          "orders",
          "orders.v1-eu_west",
          "orders:order.placed",
          "orders:",
          ":billing",
          "Bestellungen",
          "x".repeat(255),
          "x".repeat(255) + ":" + "y".repeat(255)
        }) {
      assertThatCode(() -> message(destination, "k")).as(destination).doesNotThrowAnyException();
    }
  }

  @Test
  void blankDestinationsAreRejected() {
    assertThatThrownBy(() -> message(" ", "k"))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Invalid destination ' ': blank; name a topic or an exchange");
    assertThatThrownBy(() -> message("", "k")).hasMessageContaining("blank");
    assertThatThrownBy(() -> message(":", "k"))
        .hasMessage(
            "Invalid destination ':': names neither an exchange nor a queue"
                + " (exchange[:routing-key])");
  }

  @Test
  void nullDestinationAndNullPayloadAreRejected() {
    assertThatThrownBy(() -> OutboxMessage.of(null, "k", "payload"))
        .isInstanceOf(OutboxException.class)
        .hasMessage("Invalid destination: null; name a topic or an exchange");
    assertThatThrownBy(() -> OutboxMessage.of("orders", "k", null))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "The payload of an event to 'orders' is null; publish an object (it becomes the JSON"
                + " body)");
  }

  @Test
  void destinationsWithControlCharactersAreRejected() {
    assertThatThrownBy(() -> message("orders\n", "k"))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid destination 'orders\\u000A': contains the control character U+000A at index"
                + " 6");
  }

  @Test
  void destinationsLongerThanAnyBrokerAcceptsAreRejected() {
    assertThatThrownBy(() -> message("x".repeat(256), "k"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("256 UTF-8 bytes, more than the limit of 255 bytes");
    assertThatThrownBy(() -> message("x".repeat(256) + ":rk", "k"))
        .hasMessageContaining(
            "the exchange and the routing key may each be at most 255 UTF-8 bytes (were 256 and"
                + " 2)");
    assertThatThrownBy(() -> message("x".repeat(300) + ":" + "y".repeat(300), "k"))
        .hasMessageContaining("601 UTF-8 bytes, more than the limit of 511 bytes");
  }

  @Test
  void headerNamesMustBeTokensOutsideTheReservedPrefixes() {
    OutboxMessage plain = message("orders", "k");
    assertThatCode(() -> plain.withHeaders(Map.of("traceparent", "00-ab-cd-01", "x-tenant", "t")))
        .doesNotThrowAnyException();

    assertThatThrownBy(() -> plain.withHeaders(Map.of("ce_id", "forged")))
        .isInstanceOf(OutboxException.class)
        .hasMessage(
            "Invalid header name 'ce_id' (destination 'orders'): the prefix 'ce_' is reserved for"
                + " the attributes the outbox sets itself (CloudEvents id, type, source, ...)");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("cloudEvents_type", "x")))
        .hasMessageContaining("the prefix 'cloudevents_' is reserved");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("x-outbox-error", "x")))
        .hasMessageContaining("the prefix 'x-outbox-' is reserved");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("", "x")))
        .hasMessage("Invalid header name (destination 'orders'): empty");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("my header", "x")))
        .hasMessageContaining("contains U+0020 at index 2");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("h".repeat(256), "x")))
        .hasMessageContaining("256 UTF-8 bytes, more than the limit of 255 bytes");
    assertThatThrownBy(() -> plain.withHeaders(Map.of("h", "a\0")))
        .hasMessageContaining(
            "Invalid header 'h' (destination 'orders'): the value contains U+0000");
  }

  @Test
  void aggregateTypesAreNames() {
    assertThatThrownBy(() -> message("orders", "k").withAggregateType("Order\t"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("Invalid aggregate type 'Order\\u0009' (destination 'orders')");
    assertThatThrownBy(() -> message("orders", "k").withAggregateType(" "))
        .hasMessageContaining("blank");
  }

  @EventType(name = "Order\nPlaced")
  record ControlInName() {}

  @EventType(name = "  ")
  record BlankName() {}

  @Test
  void eventTypesMustBeNames() {
    assertThatThrownBy(() -> EventTypes.of(ControlInName.class))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("Invalid event type 'Order\\u000APlaced' (payload class ")
        .hasMessageContaining("control character U+000A");
    // A blank annotation name falls back to the simple class name.
    assertThat(EventTypes.of(BlankName.class).name()).isEqualTo("BlankName");
    Object anonymous = new Object() {};
    assertThatThrownBy(() -> EventTypes.of(anonymous.getClass()))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("Invalid event type '' (payload class ")
        .hasMessageContaining("blank (an anonymous class has no simple name)");
  }

  @Test
  void utf8LengthCountsSurrogatePairsAsFourBytes() {
    for (String s : new String[] {"", "abc", "é", "€", "😀", "a😀é€"}) {
      assertThat(EventLimits.utf8Length(s))
          .as(s)
          .isEqualTo(s.getBytes(StandardCharsets.UTF_8).length);
    }
  }
}
