package dev.outbox.testing;

import static dev.outbox.testing.OutboxAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.outbox.test.TestPostgres;
import dev.outbox.testing.shop.OrderService;
import dev.outbox.testing.shop.OrderService.OrderPlaced;
import dev.outbox.testing.shop.ShopApplication;
import dev.outbox.transport.OutboxTransport;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The capturing transport in a {@code @SpringBootTest} on real PostgreSQL: Kafka is on the
 * classpath and configured, but {@link AutoConfigureOutboxTest} puts the capturing transport in its
 * place, so no broker is needed.
 */
@SpringBootTest(classes = ShopApplication.class, properties = "outbox.test.drain-timeout=45s")
@AutoConfigureOutboxTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CapturingTransportIntegrationTests {

  static final String SCHEMA = ShopDatabase.create("tk_capture");

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    ShopDatabase.register(registry, SCHEMA);
    registry.add("spring.kafka.bootstrap-servers", () -> "127.0.0.1:1");
  }

  @AfterAll
  static void dropSchema() {
    TestPostgres.get().dropSchema(SCHEMA);
  }

  @Autowired OrderService orders;
  @Autowired OutboxTestKit outbox;
  @Autowired OutboxTransport transport;
  @Autowired OutboxTestProperties properties;

  @Test
  @Order(1)
  void capturingTransportTakesThePlaceOfTheBrokersTransport() {
    assertThat(transport).isInstanceOf(CapturingOutboxTransport.class);
    assertThat(outbox.isCapturing()).isTrue();
  }

  @Test
  @Order(1)
  void attributesLeftAtTheirDefaultLeaveThePropertiesToTheTestsConfiguration() {
    assertThat(properties.getDrainTimeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(properties.isCapture()).isTrue();
    assertThat(properties.getDuplicateCopies()).isEqualTo(1);
  }

  @Test
  @Order(2)
  void assertsTheEventsATransactionWrote() {
    orders.place("o-1", "sku-7", 2);
    orders.cancel("o-1", "customer asked", "acme");

    assertThat(outbox.published())
        .hasTypes("OrderPlaced", "OrderCancelled")
        .hasPublished(OrderPlaced.class)
        .to("orders")
        .withKey("o-1")
        .withPayload("{\"quantity\": 2, \"sku\": \"sku-7\", \"orderId\": \"o-1\"}")
        .once()
        .and()
        .hasPublished("OrderCancelled")
        .withHeader("tenant", "acme")
        .withPayloadAt("/reason", "customer asked");
    assertThat(outbox.pending()).isEmpty();
    OrderPlaced placed =
        assertThat(outbox.published()).hasPublished("OrderPlaced").payload(OrderPlaced.class);
    assertThat(placed).isEqualTo(new OrderPlaced("o-1", "sku-7", 2));
  }

  @Test
  @Order(3)
  void aRolledBackTransactionPublishesNothing() {
    assertThatThrownBy(() -> orders.place("o-2", "sku-1", 0))
        .isInstanceOf(IllegalArgumentException.class);

    assertThat(outbox.published()).isEmpty().hasNotPublished("OrderPlaced");
  }

  @Test
  @Order(4)
  void aFailedAssertionSaysWhatWasExpectedAndWhatWasWritten() {
    orders.place("o-3", "sku-9", 5);

    assertThatThrownBy(
            () ->
                assertThat(outbox.published())
                    .hasPublished("OrderPlaced")
                    .to("orders")
                    .withKey("o-4"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining(
            "Expected an event OrderPlaced to \"orders\" with key \"o-4\", but none of these"
                + " matched:")
        .hasMessageContaining(
            "OrderPlaced v1 to orders key=o-3 payload={\"orderId\":\"o-3\",\"sku\":\"sku-9\","
                + "\"quantity\":5} headers={}")
        .hasMessageContaining("(key was \"o-3\")");
    assertThatThrownBy(
            () ->
                assertThat(outbox.published())
                    .hasPublished("OrderPlaced")
                    .withPayloadAt("/quantity", 4))
        .hasMessageContaining("with payload /quantity = 4")
        .hasMessageContaining("(payload /quantity was 5)");
  }

  /** Writes without looking: the next test must not see this event. */
  @Test
  @Order(5)
  void leavesAnEventBehind() {
    orders.place("o-left-behind", "sku-1", 1);
  }

  @Test
  @Order(6)
  void eachTestStartsWithAnEmptyCapture() {
    assertThat(outbox.published()).isEmpty();
    assertThat(outbox.pending()).isEmpty();
  }
}
