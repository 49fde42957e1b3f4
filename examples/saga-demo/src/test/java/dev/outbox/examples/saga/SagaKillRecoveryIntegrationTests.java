package dev.outbox.examples.saga;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.examples.inventory.InventoryService;
import dev.outbox.examples.inventory.InventoryServiceApplication;
import dev.outbox.examples.inventory.OrderPlacedListener;
import dev.outbox.examples.order.Order;
import dev.outbox.examples.order.OrderPlaced;
import dev.outbox.examples.order.OrderRepository;
import dev.outbox.examples.order.OrderService;
import dev.outbox.examples.order.OrderServiceApplication;
import dev.outbox.examples.order.OrderStatus;
import dev.outbox.examples.order.PlaceOrder;
import dev.outbox.examples.order.StockReplyListener;
import dev.outbox.test.TestPorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.json.JsonMapper;

/**
 * A kill -9 of the inventory service in the middle of the saga: it runs in a JVM of its own and is
 * killed with SIGKILL right after it handled its first order, more orders are placed while it is
 * down, and it is started again. Every message is still delivered twice. The saga must converge to
 * the same end state as without the crash: each order confirmed or cancelled as expected, each
 * order answered once, and the stock adds up. The same with the order service killed instead; each
 * test runs over the embedded Kafka broker and over RabbitMQ (in a virtual host of its own).
 */
class SagaKillRecoveryIntegrationTests {

  private static final Duration TIMEOUT = Duration.ofSeconds(180);

  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path directory;

  @ParameterizedTest
  @EnumSource(SagaTransport.class)
  void sagaConvergesAfterTheInventoryServiceIsKilledMidRun(SagaTransport transport)
      throws Exception {
    Path log = directory.resolve("inventory-service.log");
    try (TestBroker testBroker = TestBroker.of(transport);
        EmbeddedInfrastructure infrastructure = new EmbeddedInfrastructure(directory);
        SagaBroker broker = transport.start(infrastructure, testBroker.arguments())) {
      SagaTrace trace = new SagaTrace(broker.name(), broker.idName());
      String inventoryDb = infrastructure.startPostgres();
      String ordersDb = infrastructure.startPostgres();
      String[] inventoryArguments =
          SagaDemo.serviceArguments(
              inventoryDb,
              broker,
              "--spring.main.web-application-type=none",
              staticMember("inventory-service"));

      ServiceProcess inventory =
          ServiceProcess.start(InventoryServiceApplication.class, log, inventoryArguments);
      try (ConfigurableApplicationContext orders =
              new SpringApplicationBuilder(OrderServiceApplication.class)
                  .run(
                      SagaDemo.serviceArguments(
                          ordersDb, broker, "--spring.main.web-application-type=none"));
          DuplicateInjector injector = broker.injectDuplicates(trace)) {
        // The inventory's tables exist once its migrations ran; stock it like the demo does.
        await("inventory-service started (log " + log + ")")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(100))
            .until(
                () ->
                    tableExists(inventoryDb, "stock")
                        && tableExists(inventoryDb, "outbox_inbox")
                        && broker.servicesConsuming());
        SagaDemo.STOCK.forEach((product, quantity) -> stock(inventoryDb, product, quantity));

        OrderService service = orders.getBean(OrderService.class);
        Map<UUID, SagaDemo.PlannedOrder> placed = new LinkedHashMap<>();
        List<SagaDemo.PlannedOrder> plan = SagaDemo.ORDERS;
        for (SagaDemo.PlannedOrder order : plan.subList(0, 4)) {
          OrderPlaced event = service.placeOrder(order.command());
          placed.put(event.orderId(), order);
        }

        await("inventory-service handled its first order")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(20))
            .until(() -> count(inventoryDb, "SELECT count(*) FROM outbox_inbox") >= 1);
        inventory.kill();
        assertThat(inventory.isAlive()).isFalse();
        System.out.printf(
            "Killed inventory-service (SIGKILL) after it handled %d of 4 orders%n",
            count(inventoryDb, "SELECT count(*) FROM outbox_inbox"));

        for (SagaDemo.PlannedOrder order : plan.subList(4, plan.size())) {
          OrderPlaced event = service.placeOrder(order.command());
          placed.put(event.orderId(), order);
        }
        inventory =
            ServiceProcess.start(InventoryServiceApplication.class, log, inventoryArguments);

        OrderRepository repository = orders.getBean(OrderRepository.class);
        await("every order confirmed or cancelled")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    repository.findAllById(placed.keySet()).stream()
                        .noneMatch(order -> order.getStatus() == OrderStatus.PENDING));

        Map<UUID, OrderStatus> actual = new HashMap<>();
        for (Order order : repository.findAllById(placed.keySet())) {
          actual.put(order.getId(), order.getStatus());
        }
        Map<UUID, OrderStatus> expected = new HashMap<>();
        placed.forEach((id, order) -> expected.put(id, order.expected()));
        assertThat(actual).isEqualTo(expected);

        // The stock adds up and only confirmed orders hold a reservation, with their quantity.
        for (Map.Entry<String, Integer> entry : SagaDemo.STOCK.entrySet()) {
          int reserved =
              placed.entrySet().stream()
                  .filter(e -> e.getValue().command().product().equals(entry.getKey()))
                  .filter(e -> e.getValue().expected() == OrderStatus.CONFIRMED)
                  .mapToInt(e -> e.getValue().command().quantity())
                  .sum();
          assertThat(available(inventoryDb, entry.getKey()))
              .as("available %s", entry.getKey())
              .isEqualTo(entry.getValue() - reserved);
        }
        assertThat(count(inventoryDb, "SELECT count(*) FROM reservations")).isEqualTo(4);
        assertThat(
                count(
                    inventoryDb,
                    "SELECT count(*) FROM outbox_inbox WHERE consumer = '"
                        + OrderPlacedListener.CONSUMER
                        + "'"))
            .isEqualTo(7);
        assertThat(
                count(
                    ordersDb,
                    "SELECT count(*) FROM outbox_inbox WHERE consumer = '"
                        + StockReplyListener.CONSUMER
                        + "'"))
            .isEqualTo(7);
        // One answer per order (a re-send after the crash carries the same ce_id).
        await("each order's answer seen on the broker")
            .atMost(TIMEOUT)
            .until(() -> trace.messagesPerOrder("Stock").size() == placed.size());
        assertThat(trace.messagesPerOrder("Stock").values()).containsOnly(1L);
        assertThat(trace.injected()).isGreaterThanOrEqualTo(14);
      } finally {
        inventory.close();
        System.out.println("inventory-service log:\n" + Files.readString(log));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(SagaTransport.class)
  void sagaConvergesAfterTheOrderServiceIsKilledMidRun(SagaTransport transport) throws Exception {
    Path log = directory.resolve("order-service.log");
    try (TestBroker testBroker = TestBroker.of(transport);
        EmbeddedInfrastructure infrastructure = new EmbeddedInfrastructure(directory);
        SagaBroker broker = transport.start(infrastructure, testBroker.arguments())) {
      SagaTrace trace = new SagaTrace(broker.name(), broker.idName());
      String inventoryDb = infrastructure.startPostgres();
      String ordersDb = infrastructure.startPostgres();
      int port = TestPorts.unused();
      String[] orderArguments =
          SagaDemo.serviceArguments(
              ordersDb, broker, "--server.port=" + port, staticMember("order-service"));

      ServiceProcess orders =
          ServiceProcess.start(OrderServiceApplication.class, log, orderArguments);
      try (ConfigurableApplicationContext inventory =
              InventoryServiceApplication.builder()
                  .run(
                      SagaDemo.serviceArguments(
                          inventoryDb, broker, "--spring.main.web-application-type=none"));
          DuplicateInjector injector = broker.injectDuplicates(trace)) {
        SagaDemo.STOCK.forEach(inventory.getBean(InventoryService.class)::stock);
        HttpClient http = HttpClient.newHttpClient();
        await("order-service started (log " + log + ")")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(100))
            .until(
                () ->
                    tableExists(ordersDb, "outbox_inbox")
                        && answers(http, port)
                        && broker.servicesConsuming());

        Map<UUID, SagaDemo.PlannedOrder> placed = new LinkedHashMap<>();
        List<SagaDemo.PlannedOrder> plan = SagaDemo.ORDERS;
        for (SagaDemo.PlannedOrder order : plan.subList(0, 4)) {
          placed.put(place(http, port, order.command()), order);
        }
        await("order-service handled its first answer")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(20))
            .until(() -> count(ordersDb, "SELECT count(*) FROM outbox_inbox") >= 1);
        orders.kill();
        assertThat(orders.isAlive()).isFalse();
        System.out.printf(
            "Killed order-service (SIGKILL) after it handled %d of 4 answers%n",
            count(ordersDb, "SELECT count(*) FROM outbox_inbox"));

        orders = ServiceProcess.start(OrderServiceApplication.class, log, orderArguments);
        await("order-service restarted")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(100))
            .until(() -> answers(http, port));
        for (SagaDemo.PlannedOrder order : plan.subList(4, plan.size())) {
          placed.put(place(http, port, order.command()), order);
        }

        await("every order confirmed or cancelled")
            .atMost(TIMEOUT)
            .pollInterval(Duration.ofMillis(200))
            .until(
                () ->
                    count(ordersDb, "SELECT count(*) FROM orders WHERE status = 'PENDING'") == 0
                        && count(ordersDb, "SELECT count(*) FROM orders") == placed.size());
        for (Map.Entry<UUID, SagaDemo.PlannedOrder> entry : placed.entrySet()) {
          assertThat(status(ordersDb, entry.getKey()))
              .as("order %s", entry.getValue().command())
              .isEqualTo(entry.getValue().expected().name());
        }
        assertStockAddsUp(inventoryDb, placed);
        assertThat(inboxRows(inventoryDb, OrderPlacedListener.CONSUMER)).isEqualTo(7);
        assertThat(inboxRows(ordersDb, StockReplyListener.CONSUMER)).isEqualTo(7);
        await("each order's answer seen on the broker")
            .atMost(TIMEOUT)
            .until(() -> trace.messagesPerOrder("Stock").size() == placed.size());
        assertThat(trace.messagesPerOrder("Stock").values()).containsOnly(1L);
        assertThat(trace.messagesPerOrder("OrderPlaced").values()).containsOnly(1L);
      } finally {
        orders.close();
        System.out.println("order-service log:\n" + Files.readString(log));
      }
    }
  }

  /**
   * The killed and the restarted process are one instance of the service, as a pod of a StatefulSet
   * is: over Kafka both are the same static member of the service's consumer group ({@code
   * group.instance.id}), so the restarted one gets the partitions back as soon as it joins instead
   * of once the killed one's session has timed out (10 s after its last heartbeat). It reads on
   * from the offsets the killed one committed: what that one handled without committing is
   * delivered again, as before. Over RabbitMQ the setting is unused.
   */
  private static String staticMember(String service) {
    return "--spring.kafka.consumer.properties.group.instance.id=" + service + "-1";
  }

  private static void assertStockAddsUp(String inventoryDb, Map<UUID, SagaDemo.PlannedOrder> placed)
      throws SQLException {
    for (Map.Entry<String, Integer> entry : SagaDemo.STOCK.entrySet()) {
      int reserved =
          placed.values().stream()
              .filter(order -> order.command().product().equals(entry.getKey()))
              .filter(order -> order.expected() == OrderStatus.CONFIRMED)
              .mapToInt(order -> order.command().quantity())
              .sum();
      assertThat(available(inventoryDb, entry.getKey()))
          .as("available %s", entry.getKey())
          .isEqualTo(entry.getValue() - reserved);
    }
    assertThat(count(inventoryDb, "SELECT count(*) FROM reservations")).isEqualTo(4);
  }

  private static long inboxRows(String url, String consumer) throws SQLException {
    return count(url, "SELECT count(*) FROM outbox_inbox WHERE consumer = '" + consumer + "'");
  }

  private static String status(String url, UUID orderId) throws SQLException {
    try (Connection connection = connect(url);
        PreparedStatement statement =
            connection.prepareStatement("SELECT status FROM orders WHERE id = ?")) {
      statement.setObject(1, orderId);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getString(1) : "(missing)";
      }
    }
  }

  private static boolean answers(HttpClient http, int port) {
    try {
      http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
              .timeout(Duration.ofSeconds(5))
              .GET()
              .build(),
          HttpResponse.BodyHandlers.discarding());
      return true;
    } catch (IOException ex) {
      return false;
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static UUID place(HttpClient http, int port, PlaceOrder command) throws Exception {
    String body =
        String.format(
            "{\"customerId\":\"%s\",\"product\":\"%s\",\"quantity\":%d}",
            command.customerId(), command.product(), command.quantity());
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/orders"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return UUID.fromString(JSON.readTree(response.body()).get("orderId").asString());
  }

  private static Connection connect(String url) throws SQLException {
    return DriverManager.getConnection(url, "postgres", "");
  }

  private static boolean tableExists(String url, String table) throws SQLException {
    return count(url, "SELECT count(*) FROM pg_tables WHERE tablename = '" + table + "'") == 1;
  }

  private static long count(String url, String sql) throws SQLException {
    try (Connection connection = connect(url);
        ResultSet rows = connection.createStatement().executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static int available(String url, String product) throws SQLException {
    try (Connection connection = connect(url);
        PreparedStatement statement =
            connection.prepareStatement("SELECT available FROM stock WHERE product = ?")) {
      statement.setString(1, product);
      try (ResultSet rows = statement.executeQuery()) {
        rows.next();
        return rows.getInt(1);
      }
    }
  }

  private static void stock(String url, String product, int quantity) {
    try (Connection connection = connect(url);
        PreparedStatement statement =
            connection.prepareStatement(
                "INSERT INTO stock (product, initial, available) VALUES (?, ?, ?)")) {
      statement.setString(1, product);
      statement.setInt(2, quantity);
      statement.setInt(3, quantity);
      statement.executeUpdate();
    } catch (SQLException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
