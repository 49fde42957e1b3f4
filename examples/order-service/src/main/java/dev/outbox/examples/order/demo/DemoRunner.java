package dev.outbox.examples.order.demo;

import dev.outbox.examples.order.OrderPlaced;
import dev.outbox.examples.order.OrderService;
import dev.outbox.examples.order.PlaceOrder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;

/**
 * Places {@code demo.orders} orders once the application has started, waits until the demo consumer
 * has received their events, and with {@code demo.exit=true} exits: status 0 if every event arrived
 * within {@code demo.timeout}, 1 if not.
 */
public final class DemoRunner implements ApplicationRunner {

  private static final List<PlaceOrder> SAMPLES =
      List.of(
          new PlaceOrder("alice", "espresso beans", 2),
          new PlaceOrder("bob", "green tea", 1),
          new PlaceOrder("carol", "oat milk", 6),
          new PlaceOrder("dave", "croissant", 3),
          new PlaceOrder("erin", "hot chocolate", 1));

  private final OrderService orderService;
  private final DemoConsumer consumer;
  private final ReceivedEvents events;
  private final DemoProperties properties;
  private final ConfigurableApplicationContext context;
  private final Environment environment;
  private final PrintStream out;
  private volatile boolean succeeded;

  DemoRunner(
      OrderService orderService,
      DemoConsumer consumer,
      ReceivedEvents events,
      DemoProperties properties,
      ConfigurableApplicationContext context,
      Environment environment,
      PrintStream out) {
    this.orderService = orderService;
    this.consumer = consumer;
    this.events = events;
    this.properties = properties;
    this.context = context;
    this.environment = environment;
    this.out = out;
  }

  @Override
  public void run(ApplicationArguments args) throws InterruptedException {
    succeeded = demo();
    if (properties.exit()) {
      int status = succeeded ? 0 : 1;
      out.printf("%nDemo over; exiting with status %d (demo.exit=true).%n", status);
      out.flush();
      System.exit(SpringApplication.exit(context, () -> status));
    }
  }

  /** Whether the last run saw every event it placed. */
  public boolean succeeded() {
    return succeeded;
  }

  private boolean demo() throws InterruptedException {
    int count = properties.orders();
    out.printf(
        "%n=== Outbox demo: placing %d orders ===%n"
            + "Each order row and its OrderPlaced event are written in ONE database transaction.%n"
            + "After the commit the outbox relay publishes the event to %s;%n"
            + "a plain consumer of it prints every message it receives (<-).%n",
        count, consumer.description());
    if (!consumer.awaitReady(properties.timeout())) {
      out.printf(
          "%nThe demo consumer of %s was not ready within %s. Is the broker running?%n",
          consumer.description(), properties.timeout());
      return false;
    }
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      PlaceOrder command = SAMPLES.get(i % SAMPLES.size());
      OrderPlaced placed = orderService.placeOrder(command);
      keys.add(placed.orderId().toString());
      out.printf(
          "-> placed order %s (%d x %s for %s)%n",
          placed.orderId(), placed.quantity(), placed.product(), placed.customerId());
    }
    int seen = events.awaitKeys(keys, properties.timeout());
    if (seen < count) {
      out.printf(
          "%n=== Only %d of %d OrderPlaced events arrived within %s. ===%n"
              + "Events stay in the outbox table until the broker takes them; check the log above.%n",
          seen, count, properties.timeout());
      return false;
    }
    out.printf(
        "%n=== All %d OrderPlaced events arrived. ===%n"
            + "The message id (ce_id on Kafka, message_id on RabbitMQ) is the id of the event's%n"
            + "outbox row: the same on every redelivery, so consumers de-duplicate by it.%n",
        count);
    if (!properties.exit()) {
      out.printf(
          "The service keeps running. Place another order with:%n"
              + "  curl -H 'Content-Type: application/json'"
              + " -d '{\"customerId\":\"frank\",\"product\":\"tea\",\"quantity\":1}'"
              + " http://localhost:%s/orders%n",
          environment.getProperty("local.server.port", "8080"));
    }
    out.flush();
    return true;
  }
}
