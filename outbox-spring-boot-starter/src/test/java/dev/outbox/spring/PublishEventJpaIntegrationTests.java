package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.outbox.OutboxEvent;
import dev.outbox.OutboxException;
import dev.outbox.spring.app.OrderService;
import dev.outbox.spring.app.PurchaseOrderRepository;
import dev.outbox.spring.app.ShipmentListener;
import dev.outbox.spring.app.ShipmentService;
import dev.outbox.spring.app.TestApplication;
import dev.outbox.store.Slots;
import dev.outbox.test.TestPostgres;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Writing events with Spring Data JPA ({@link JpaTransactionManager}) on real PostgreSQL. The relay
 * polls only once an hour here. Its lease renewals, which also find pending events, come no more
 * often than every six minutes (a tenth of the poll interval while slots settle after the start),
 * so delivery within a test's wait proves the wake-up after commit: with that wake-up removed,
 * every test here that waits for an event fails.
 */
@SpringBootTest(
    classes = TestApplication.class,
    properties = {
      "spring.jpa.hibernate.ddl-auto=create",
      "outbox.relay.poll-interval=1h",
      "management.metrics.export.defaults.enabled=true",
      "app.topics.shipping=shipping-from-configuration"
    })
class PublishEventJpaIntegrationTests {

  static final String SCHEMA = TestPostgres.get().createSchema("jpa");

  static {
    TestPostgres.get()
        .execute(
            "CREATE TABLE "
                + SCHEMA
                + ".stock_reservation (id bigserial PRIMARY KEY, sku text NOT NULL, quantity int)");
  }

  @DynamicPropertySource
  static void database(DynamicPropertyRegistry registry) {
    PostgresSchemas.register(registry, SCHEMA);
  }

  @Autowired OrderService service;
  @Autowired PurchaseOrderRepository orders;
  @Autowired RecordingTransport transport;
  @Autowired JdbcClient jdbc;
  @Autowired PlatformTransactionManager transactionManager;
  @Autowired MeterRegistry meters;
  @Autowired ShipmentService shipments;

  private List<OutboxEvent> sentWithKey(String key) {
    return transport.sent().stream().filter(e -> key.equals(e.key())).toList();
  }

  private void awaitSent(String key, int count) {
    await().atMost(Duration.ofSeconds(10)).until(() -> sentWithKey(key).size() >= count);
  }

  @Test
  void usesTheJpaTransactionManager() {
    assertThat(transactionManager).isInstanceOf(JpaTransactionManager.class);
  }

  @Test
  void commitPublishesOneEventWithKeyTypeVersionAndJson() {
    service.placeOrder("jpa-1", 3);

    awaitSent("jpa-1", 1);
    OutboxEvent event = sentWithKey("jpa-1").get(0);
    assertThat(event.destination()).isEqualTo("orders");
    assertThat(event.type()).isEqualTo("OrderPlaced");
    assertThat(event.version()).isEqualTo(2);
    assertThat(event.aggregateType()).isEqualTo("Order");
    assertThat(event.payload()).isEqualTo("{\"orderId\":\"jpa-1\",\"quantity\":3}");
    assertThat(event.id().version()).isEqualTo(7);
    assertThat(orders.findById("jpa-1")).isPresent();
    assertThat(meters.find("outbox.events.published").counters())
        .as("published counter")
        .isNotEmpty();
  }

  @Test
  void destinationPlaceholdersAreResolvedFromTheEnvironment(
      @Value("${app.topics.shipping}") String shippingTopic) {
    service.shipOrder("ship-1");
    awaitSent("ship-1", 1);

    assertThat(sentWithKey("ship-1").get(0).destination()).isEqualTo(shippingTopic);
  }

  @Test
  void anUnresolvableDestinationPlaceholderFailsTheTransactionNamingIt() {
    assertThatThrownBy(() -> service.shipOrderToAnUndefinedTopic("ship-2"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("Cannot resolve the destination '${app.topics.undefined}'")
        .hasMessageContaining("shipOrderToAnUndefinedTopic")
        .hasMessageContaining("app.topics.undefined");
    assertThat(orders.existsById("ship-2")).as("the order rolled back with it").isFalse();
  }

  @Test
  void theIdsOfTheEventsAMethodWroteAreAvailableToItsCaller() {
    service.placeOrder("ids-1", 1);
    UUID id = PublishedEvents.lastId();
    awaitSent("ids-1", 1);
    assertThat(sentWithKey("ids-1").get(0).id()).isEqualTo(id);

    service.reserveStock("sku-ids", 2, false);
    assertThat(PublishedEvents.lastIds()).hasSize(2);
    assertThatThrownBy(PublishedEvents::lastId)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("wrote 2 events, not one");
  }

  @Test
  void afterAPublishEventMethodThrewItsCallerGetsNoIdsNotThoseOfAnEarlierCall() {
    service.placeOrder("ids-before-failure", 1);
    assertThat(PublishedEvents.lastIds()).hasSize(1);

    assertThatThrownBy(() -> service.placeOrderThenFail("ids-failed", 1))
        .isInstanceOf(IllegalStateException.class);

    assertThat(PublishedEvents.lastIds()).isEmpty();
    assertThatThrownBy(PublishedEvents::lastId)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage(
            "The last @PublishEvent method on this thread wrote no event: its payload was null,"
                + " it threw, or none ran here");
  }

  @Test
  void rollbackLeavesNeitherTheOrderNorTheEvent() {
    assertThatThrownBy(() -> service.placeOrderThenFail("jpa-2", 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("payment declined");
    service.placeOrder("jpa-2-after", 1);

    awaitSent("jpa-2-after", 1);
    assertThat(sentWithKey("jpa-2")).isEmpty();
    assertThat(orders.findById("jpa-2")).isEmpty();
    assertThat(outboxRows("jpa-2")).isZero();
  }

  @Test
  void annotationWithoutTransactionCommitsWritesAndEventsTogether() {
    service.reserveStock("sku-1", 2, false);

    awaitSent("sku-1", 2);
    assertThat(sentWithKey("sku-1"))
        .extracting(OutboxEvent::payload)
        .containsExactly(
            "{\"sku\":\"sku-1\",\"quantity\":2}", "{\"sku\":\"sku-1\",\"quantity\":3}");
    assertThat(reservations("sku-1")).isEqualTo(1);
  }

  @Test
  void annotationWithoutTransactionRollsBackWritesWhenTheMethodFails() {
    assertThatThrownBy(() -> service.reserveStock("sku-2", 1, true))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("warehouse offline");
    service.reserveStock("sku-2-after", 1, false);

    awaitSent("sku-2-after", 2);
    assertThat(sentWithKey("sku-2")).isEmpty();
    assertThat(reservations("sku-2")).isZero();
  }

  @Test
  void unserializablePayloadFailsTheBusinessTransactionNamingTheEventType() {
    assertThatThrownBy(() -> service.placeOrderWithUnserializableEvent("jpa-3"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("event type Unserializable")
        .hasMessageContaining("this payload cannot be read");

    assertThat(orders.findById("jpa-3")).isEmpty();
    assertThat(outboxRows("jpa-3")).isZero();
  }

  @Test
  void explicitPublishJoinsTheTransaction() {
    service.placeOrderExplicitly("jpa-4");

    awaitSent("jpa-4", 1);
    assertThat(sentWithKey("jpa-4").get(0).type()).isEqualTo("OrderPlaced");
  }

  @Test
  void explicitPublishWithoutTransactionFailsLoudlyAndWritesNothing() {
    assertThatThrownBy(() -> service.publishWithoutTransaction("jpa-5"))
        .isInstanceOf(OutboxException.class)
        .hasMessageContaining("No transaction is active");
    assertThat(outboxRows("jpa-5")).isZero();
  }

  @Test
  void anEventAnEntityCallbackWritesDuringTheCommitsFlushIsPublishedAtOnce() {
    int before = ShipmentListener.published();

    int whenTheMethodReturned = shipments.createShipment("shp-1", "jpa-ship-1");

    assertThat(whenTheMethodReturned)
        .as("the callback had not run when the method returned: Hibernate inserts at the commit")
        .isEqualTo(before);
    assertThat(ShipmentListener.published()).isEqualTo(before + 1);
    awaitSent("shp-1", 1);
    OutboxEvent event = sentWithKey("shp-1").get(0);
    assertThat(event.destination()).isEqualTo("shipments");
    assertThat(event.type()).isEqualTo("ShipmentCreated");
    assertThat(event.payload()).isEqualTo("{\"shipmentId\":\"shp-1\",\"orderId\":\"jpa-ship-1\"}");
    assertThat(shipmentRows("shp-1")).isEqualTo(1);
  }

  @Test
  void anEventWrittenDuringTheCommitsFlushJoinsTheWakeUpOfTheEventsWrittenBeforeIt() {
    // Keys in different slots: the relay reads only the slots a wake-up names, so a slot missing
    // from it would wait for the next poll, a minute away.
    assertThat(Slots.ofText("shp-2")).isNotEqualTo(Slots.ofText("jpa-ship-2"));

    shipments.placeOrderAndShip("jpa-ship-2", "shp-2");

    awaitSent("jpa-ship-2", 1);
    awaitSent("shp-2", 1);
    assertThat(sentWithKey("shp-2").get(0).type()).isEqualTo("ShipmentCreated");
    assertThat(sentWithKey("jpa-ship-2").get(0).type()).isEqualTo("OrderPlaced");
  }

  @Test
  void aShipmentWhoseTransactionFailsBeforeTheFlushWritesNoEvent() {
    int before = ShipmentListener.published();

    assertThatThrownBy(() -> shipments.createShipmentThenFail("shp-3", "jpa-ship-3"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("carrier unavailable");

    assertThat(ShipmentListener.published()).isEqualTo(before);
    assertThat(outboxRows("shp-3")).isZero();
    assertThat(shipmentRows("shp-3")).isZero();
  }

  private long shipmentRows(String id) {
    return jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".shipment WHERE id = ?")
        .param(id)
        .query(Long.class)
        .single();
  }

  private long outboxRows(String key) {
    return jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".outbox_event WHERE event_key = ?")
        .param(key)
        .query(Long.class)
        .single();
  }

  private long reservations(String sku) {
    return jdbc.sql("SELECT count(*) FROM " + SCHEMA + ".stock_reservation WHERE sku = ?")
        .param(sku)
        .query(Long.class)
        .single();
  }
}
