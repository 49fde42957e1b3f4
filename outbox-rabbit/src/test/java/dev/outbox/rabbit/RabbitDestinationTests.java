package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

class RabbitDestinationTests {

  /** An {@code OrderPlaced} event to {@code destination}; also used by other tests here. */
  static OutboxEvent event(String destination, @Nullable String key) {
    return new OutboxEvent(
        EventIds.next(),
        1,
        destination,
        key,
        null,
        "OrderPlaced",
        1,
        "{}",
        Map.of(),
        Instant.now(),
        0);
  }

  private static RabbitDestination resolve(String destination, RoutingKeySource source) {
    return RabbitDestination.of(event(destination, "order-1"), source);
  }

  @Test
  void exchangeAloneRoutesByEventType() {
    assertThat(resolve("orders", RoutingKeySource.TYPE))
        .isEqualTo(new RabbitDestination("orders", "OrderPlaced"));
  }

  @Test
  void exchangeAloneRoutesByKeyWhenConfigured() {
    assertThat(resolve("orders", RoutingKeySource.KEY))
        .isEqualTo(new RabbitDestination("orders", "order-1"));
  }

  @Test
  void unkeyedEventFallsBackToTheTypeWhenRoutingByKey() {
    assertThat(RabbitDestination.of(event("orders", null), RoutingKeySource.KEY))
        .isEqualTo(new RabbitDestination("orders", "OrderPlaced"));
  }

  @Test
  void explicitRoutingKeyFollowsTheFirstColon() {
    assertThat(resolve("orders:order.placed:v1", RoutingKeySource.KEY))
        .isEqualTo(new RabbitDestination("orders", "order.placed:v1"));
  }

  @Test
  void trailingColonMeansAnEmptyRoutingKey() {
    assertThat(resolve("orders:", RoutingKeySource.TYPE))
        .isEqualTo(new RabbitDestination("orders", ""));
  }

  @Test
  void leadingColonNamesAQueueThroughTheDefaultExchange() {
    assertThat(resolve(":billing", RoutingKeySource.TYPE))
        .isEqualTo(new RabbitDestination("", "billing"));
  }

  @Test
  void aLoneColonIsRejectedAsNotRetryable() {
    assertThatThrownBy(() -> resolve(":", RoutingKeySource.TYPE))
        .isInstanceOfSatisfying(
            RabbitPublishException.class,
            ex -> {
              assertThat(ex.reason()).isEqualTo(RabbitPublishException.Reason.INVALID_DESTINATION);
              assertThat(ex.isRetryable()).isFalse();
            });
  }

  @Test
  void namesLongerThanAmqpAllowsAreRejected() {
    assertThatThrownBy(() -> resolve("x".repeat(256), RoutingKeySource.TYPE))
        .isInstanceOf(RabbitPublishException.class)
        .hasMessageContaining("255 bytes");
    assertThatThrownBy(() -> resolve("orders:" + "é".repeat(128), RoutingKeySource.TYPE))
        .isInstanceOf(RabbitPublishException.class)
        .hasMessageContaining("routing key");
  }
}
