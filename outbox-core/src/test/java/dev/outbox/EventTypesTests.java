package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EventTypesTests {

  record OrderShipped(String id) {}

  @EventType(name = "OrderPlaced", version = 3)
  record PlacedV3(String id) {}

  @EventType(version = 2)
  record OrderCancelled(String id) {}

  @EventType(version = 0)
  record Broken() {}

  @Test
  void defaultsToTheSimpleClassNameAndVersionOne() {
    assertThat(EventTypes.of(OrderShipped.class))
        .isEqualTo(new EventTypes.Resolved("OrderShipped", 1));
  }

  @Test
  void readsNameAndVersionFromTheAnnotation() {
    assertThat(EventTypes.of(PlacedV3.class)).isEqualTo(new EventTypes.Resolved("OrderPlaced", 3));
    assertThat(EventTypes.of(OrderCancelled.class))
        .isEqualTo(new EventTypes.Resolved("OrderCancelled", 2));
  }

  @Test
  void rejectsVersionZero() {
    assertThatThrownBy(() -> EventTypes.of(Broken.class))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("version 0");
  }

  @Test
  void messagesRequireADestination() {
    assertThatThrownBy(() -> OutboxMessage.of(" ", "k", "payload"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("destination");
  }
}
