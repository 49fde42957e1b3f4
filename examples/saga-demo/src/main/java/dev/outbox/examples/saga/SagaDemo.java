package dev.outbox.examples.saga;

import dev.outbox.examples.inventory.InventoryService;
import dev.outbox.examples.inventory.InventoryServiceApplication;
import dev.outbox.examples.inventory.OrderPlacedListener;
import dev.outbox.examples.inventory.StockLevel;
import dev.outbox.examples.order.Order;
import dev.outbox.examples.order.OrderPlaced;
import dev.outbox.examples.order.OrderRepository;
import dev.outbox.examples.order.OrderService;
import dev.outbox.examples.order.OrderServiceApplication;
import dev.outbox.examples.order.OrderStatus;
import dev.outbox.examples.order.PlaceOrder;
import dev.outbox.examples.order.StockReplyListener;
import dev.outbox.inbox.InboxListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

/**
 * Runs the order/inventory saga: starts the infrastructure, the inventory service and the order
 * service (two Spring Boot applications, each with its own application context and database, in
 * this JVM), stocks the inventory, places orders — some of which must be rejected — while every
 * message is delivered twice, and checks the end state. The messages travel over an embedded Kafka
 * broker, or over RabbitMQ ({@link SagaTransport}).
 */
public final class SagaDemo {

  /** The products stocked before the orders are placed. */
  static final Map<String, Integer> STOCK =
      orderedMap("espresso beans", 10, "green tea", 5, "oat milk", 3, "hot chocolate", 0);

  /**
   * An order the demo places and the state it must end in. The outcome does not depend on the order
   * in which the inventory handles them: the accepted ones fit into the stock together, each
   * rejected one exceeds the stock even alone.
   */
  record PlannedOrder(PlaceOrder command, OrderStatus expected) {}

  static final List<PlannedOrder> ORDERS =
      List.of(
          planned("alice", "espresso beans", 2, OrderStatus.CONFIRMED),
          planned("bob", "green tea", 1, OrderStatus.CONFIRMED),
          planned("carol", "oat milk", 6, OrderStatus.CANCELLED), // only 3 in stock
          planned("dave", "espresso beans", 3, OrderStatus.CONFIRMED),
          planned("erin", "hot chocolate", 1, OrderStatus.CANCELLED), // sold out
          planned("frank", "green tea", 4, OrderStatus.CONFIRMED), // the last 4
          planned("grace", "matcha", 1, OrderStatus.CANCELLED)); // not stocked at all

  /** What the run ended with. */
  public record Result(
      boolean succeeded,
      Map<UUID, OrderStatus> expected,
      Map<UUID, OrderStatus> actual,
      List<StockLevel> stock,
      Map<UUID, Integer> reservations,
      int duplicatesInjected,
      int inventoryDuplicatesSkipped,
      int orderDuplicatesSkipped) {}

  private final PrintStream out;
  private final Duration timeout;
  private final Path directory;
  private final SagaTransport transport;
  private final String[] extraArguments;

  /**
   * @param timeout how long the saga may take once both services run
   * @param directory where the embedded servers keep their files
   * @param extraArguments more Spring Boot arguments for both services, e.g. logging levels or
   *     {@code spring.rabbitmq.*}
   */
  public SagaDemo(
      PrintStream out,
      Duration timeout,
      Path directory,
      SagaTransport transport,
      String... extraArguments) {
    this.out = out;
    this.timeout = timeout;
    this.directory = directory;
    this.transport = transport;
    this.extraArguments = extraArguments.clone();
  }

  /** Runs the saga and stops everything it started. */
  public Result run() throws InterruptedException {
    try (EmbeddedInfrastructure infrastructure = new EmbeddedInfrastructure(directory);
        SagaBroker broker = transport.start(infrastructure, extraArguments)) {
      SagaTrace trace = new SagaTrace(broker.name(), broker.idName());
      out.printf("%n=== Saga demo: order-service and inventory-service ===%n");
      out.printf("%s%n", broker.description());
      String inventoryDb = infrastructure.startPostgres();
      out.printf("Started the inventory-service's own embedded PostgreSQL: %s%n", inventoryDb);
      String ordersDb = infrastructure.startPostgres();
      out.printf("Started the order-service's own embedded PostgreSQL:     %s%n", ordersDb);
      // The services stop before the servers they use.
      try (ConfigurableApplicationContext inventory =
              InventoryServiceApplication.builder()
                  .initializers(
                      listener(
                          trace.listener(
                              "inventory-service",
                              "inbox row, stock change and answer (in its outbox) in one transaction")))
                  .run(arguments(inventoryDb, broker));
          ConfigurableApplicationContext orders =
              new SpringApplicationBuilder(OrderServiceApplication.class)
                  .initializers(
                      listener(
                          trace.listener(
                              "order-service",
                              "inbox row and the order's new status in one transaction")))
                  .run(arguments(ordersDb, broker))) {
        out.printf(
            "Started inventory-service and order-service, each in its own application context%n");
        InventoryService stock = inventory.getBean(InventoryService.class);
        STOCK.forEach(stock::stock);
        out.printf("%nStock: %s%n", STOCK);

        try (DuplicateInjector injector = broker.injectDuplicates(trace)) {
          out.printf(
              "Every message on %s is delivered twice: the demo re-sends each one%nwith the same"
                  + " %s, as a redelivery after a crash would.%n%n",
              broker.destinations(), broker.idName());
          awaitConsumers(broker);
          Map<UUID, PlannedOrder> placed = placeOrders(orders.getBean(OrderService.class), trace);
          return awaitAndCheck(
              placed, orders.getBean(OrderRepository.class), stock, trace, injector);
        } finally {
          out.printf("%nStopping the services and the embedded servers.%n");
          out.flush();
        }
      }
    }
  }

  /**
   * Waits, at most {@code timeout}, until both services consume from the broker: orders placed
   * before that could be dropped by the broker, and the run would only fail later, less clearly.
   */
  private void awaitConsumers(SagaBroker broker) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!broker.servicesConsuming()) {
      if (System.nanoTime() >= deadline) {
        throw new IllegalStateException(
            "The services do not consume from " + broker.destinations() + " after " + timeout);
      }
      Thread.sleep(200);
    }
  }

  private Map<UUID, PlannedOrder> placeOrders(OrderService service, SagaTrace trace) {
    Map<UUID, PlannedOrder> placed = new LinkedHashMap<>();
    for (PlannedOrder order : ORDERS) {
      OrderPlaced event = service.placeOrder(order.command());
      placed.put(event.orderId(), order);
      String text =
          String.format(
              "%-18s placed %s (PENDING); OrderPlaced written to its outbox in the same"
                  + " transaction",
              "order-service", describe(order.command()));
      trace.placed(event.orderId().toString(), text);
      out.printf("-> placed order %s: %s%n", event.orderId(), describe(order.command()));
    }
    return placed;
  }

  private Result awaitAndCheck(
      Map<UUID, PlannedOrder> placed,
      OrderRepository repository,
      InventoryService inventory,
      SagaTrace trace,
      DuplicateInjector injector)
      throws InterruptedException {
    int messages = placed.size(); // one OrderPlaced and one answer per order
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean settled = false;
    boolean failedAlready = false;
    while (System.nanoTime() < deadline && injector.failure() == null) {
      boolean allDone =
          repository.findAllById(placed.keySet()).stream()
              .allMatch(order -> order.getStatus() != OrderStatus.PENDING);
      if (allDone
          && trace.duplicates(OrderPlacedListener.CONSUMER) >= messages
          && trace.duplicates(StockReplyListener.CONSUMER) >= messages) {
        settled = true;
        break;
      }
      // An order answered twice fails the checks below whatever happens later: say so now
      if (allDone
          && trace.messagesPerOrder("Stock").values().stream().anyMatch(answers -> answers > 1)) {
        failedAlready = true;
        break;
      }
      Thread.sleep(200);
    }

    Map<UUID, OrderStatus> expected = new LinkedHashMap<>();
    Map<UUID, OrderStatus> actual = new LinkedHashMap<>();
    Map<UUID, Order> byId = new LinkedHashMap<>();
    repository.findAllById(placed.keySet()).forEach(order -> byId.put(order.getId(), order));
    boolean ok = settled;

    out.printf("%n=== The saga, step by step, per order ===%n");
    int number = 0;
    for (Map.Entry<UUID, PlannedOrder> entry : placed.entrySet()) {
      UUID id = entry.getKey();
      PlannedOrder plan = entry.getValue();
      Order order = byId.get(id);
      OrderStatus status = order == null ? null : order.getStatus();
      expected.put(id, plan.expected());
      if (status != null) {
        actual.put(id, status);
      }
      boolean right = status == plan.expected();
      ok &= right;
      out.printf(
          "%norder %d %s: %s -> %s%s (expected %s) %s%n",
          ++number,
          id,
          describe(plan.command()),
          status,
          order != null && order.getStatusReason() != null
              ? " (" + order.getStatusReason() + ")"
              : "",
          plan.expected(),
          right ? "OK" : "WRONG");
      trace.print(out, id.toString());
    }

    out.printf("%n=== Checks ===%n");
    if (!settled && !failedAlready) {
      Throwable failure = injector.failure();
      out.printf(
          "FAILED: the saga did not settle within %s%s%n",
          timeout, failure == null ? "" : " (duplicate injector failed: " + failure + ")");
    }
    List<StockLevel> levels = inventory.levels();
    Map<UUID, Integer> reservations = inventory.reservations();
    for (StockLevel level : levels) {
      int reserved =
          placed.entrySet().stream()
              .filter(e -> e.getValue().command().product().equals(level.product()))
              .filter(e -> reservations.containsKey(e.getKey()))
              .mapToInt(e -> reservations.get(e.getKey()))
              .sum();
      boolean consistent = level.initial() - reserved == level.available();
      ok &= consistent;
      out.printf(
          "%s stock of %-15s initial %2d - reserved %2d = available %2d%n",
          consistent ? "OK    " : "FAILED",
          level.product(),
          level.initial(),
          reserved,
          level.available());
    }
    List<UUID> confirmed = new ArrayList<>();
    actual.forEach(
        (id, status) -> {
          if (status == OrderStatus.CONFIRMED) {
            confirmed.add(id);
          }
        });
    boolean reservationsMatch =
        reservations.keySet().equals(new java.util.HashSet<>(confirmed))
            && confirmed.stream()
                .allMatch(id -> reservations.get(id) == placed.get(id).command().quantity());
    ok &= reservationsMatch;
    out.printf(
        "%s reservations: exactly the %d confirmed orders, with their quantities%n",
        reservationsMatch ? "OK    " : "FAILED", confirmed.size());
    for (String consumer : List.of(OrderPlacedListener.CONSUMER, StockReplyListener.CONSUMER)) {
      boolean once =
          trace.handled(consumer) == messages
              && trace.duplicates(consumer) >= messages
              && !trace.handledAnyTwice(consumer);
      ok &= once;
      out.printf(
          "%s %s: handled %d messages once each, skipped %d duplicates%n",
          once ? "OK    " : "FAILED",
          consumer,
          trace.handled(consumer),
          trace.duplicates(consumer));
    }
    Map<String, Long> answers = trace.messagesPerOrder("Stock");
    boolean oneAnswerEach =
        answers.size() == placed.size() && answers.values().stream().allMatch(n -> n == 1);
    ok &= oneAnswerEach;
    out.printf(
        "%s inventory-service answered each of the %d orders once: %s%n",
        oneAnswerEach ? "OK    " : "FAILED", placed.size(), answers.values());
    out.printf("       duplicates injected: %d%n", trace.injected());
    out.printf(
        "%n=== %s ===%n",
        ok
            ? "Saga OK: every order ended as expected and the stock adds up"
            : "Saga FAILED: see the checks above");
    out.flush();
    return new Result(
        ok,
        expected,
        actual,
        levels,
        reservations,
        trace.injected(),
        trace.duplicates(OrderPlacedListener.CONSUMER),
        trace.duplicates(StockReplyListener.CONSUMER));
  }

  private String[] arguments(String databaseUrl, SagaBroker broker) {
    List<String> arguments = new ArrayList<>();
    arguments.add("--spring.main.web-application-type=none");
    arguments.addAll(List.of(extraArguments));
    return serviceArguments(databaseUrl, broker, arguments.toArray(String[]::new));
  }

  /**
   * The arguments of a service running on {@code databaseUrl} and {@code broker}, each property
   * once: Spring Boot joins the values of a repeated argument with a comma, so a later argument
   * replaces an earlier one of the same name. The extra arguments replace the demo's defaults; the
   * broker's (resolved from the extra arguments) come last.
   */
  static String[] serviceArguments(
      String databaseUrl, SagaBroker broker, String... extraArguments) {
    List<String> arguments = new ArrayList<>();
    arguments.add("--spring.datasource.url=" + databaseUrl);
    arguments.add("--spring.datasource.username=postgres");
    arguments.add("--spring.datasource.password=");
    arguments.add("--order-service.embedded.enabled=false");
    arguments.add("--demo.orders=0");
    arguments.add("--logging.level.dev.outbox=WARN");
    arguments.addAll(List.of(extraArguments));
    arguments.addAll(broker.serviceArguments());
    Map<String, String> byName = new LinkedHashMap<>();
    for (String argument : arguments) {
      int equals = argument.indexOf('=');
      byName.put(equals < 0 ? argument : argument.substring(0, equals), argument);
    }
    return byName.values().toArray(String[]::new);
  }

  private static org.springframework.context.ApplicationContextInitializer<
          ConfigurableApplicationContext>
      listener(InboxListener listener) {
    return context ->
        ((GenericApplicationContext) context)
            .registerBean("sagaDemoTrace", InboxListener.class, () -> listener);
  }

  private static String describe(PlaceOrder command) {
    return command.quantity() + " x " + command.product() + " for " + command.customerId();
  }

  private static PlannedOrder planned(
      String customer, String product, int quantity, OrderStatus expected) {
    return new PlannedOrder(new PlaceOrder(customer, product, quantity), expected);
  }

  private static Map<String, Integer> orderedMap(Object... entries) {
    Map<String, Integer> map = new LinkedHashMap<>();
    for (int i = 0; i < entries.length; i += 2) {
      map.put((String) entries[i], (Integer) entries[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}
