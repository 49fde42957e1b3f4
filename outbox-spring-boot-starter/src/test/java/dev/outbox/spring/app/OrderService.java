package dev.outbox.spring.app;

import dev.outbox.Outbox;
import dev.outbox.PublishEvent;
import java.util.List;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Domain code in the two styles the outbox supports: JPA and plain JDBC, annotation and call. */
@Service
public class OrderService {

  private final PurchaseOrderRepository orders;
  private final JdbcClient jdbc;
  private final Outbox outbox;

  public OrderService(PurchaseOrderRepository orders, JdbcClient jdbc, Outbox outbox) {
    this.orders = orders;
    this.jdbc = jdbc;
    this.outbox = outbox;
  }

  @Transactional
  @PublishEvent(destination = "orders", key = "#result.orderId()", aggregateType = "Order")
  public OrderPlaced placeOrder(String id, int quantity) {
    orders.save(new PurchaseOrder(id, quantity));
    return new OrderPlaced(id, quantity);
  }

  @Transactional
  @PublishEvent(destination = "orders", key = "#result.orderId()")
  public OrderPlaced placeOrderThenFail(String id, int quantity) {
    orders.save(new PurchaseOrder(id, quantity));
    orders.flush();
    throw new IllegalStateException("payment declined");
  }

  /** No @Transactional: the annotation starts the transaction (REQUIRED). */
  @PublishEvent(destination = "stock", key = "#event.sku()")
  public List<StockReserved> reserveStock(String sku, int quantity, boolean failAfterWrite) {
    jdbc.sql("INSERT INTO stock_reservation (sku, quantity) VALUES (?, ?)")
        .params(sku, quantity)
        .update();
    if (failAfterWrite) {
      throw new IllegalStateException("warehouse offline");
    }
    return List.of(new StockReserved(sku, quantity), new StockReserved(sku, quantity + 1));
  }

  /** The destination comes from configuration ({@code app.topics.shipping}). */
  @Transactional
  @PublishEvent(destination = "${app.topics.shipping}", key = "#result.orderId()")
  public OrderPlaced shipOrder(String id) {
    orders.save(new PurchaseOrder(id, 1));
    return new OrderPlaced(id, 1);
  }

  /** Names a property no configuration defines. */
  @Transactional
  @PublishEvent(destination = "${app.topics.undefined}", key = "#result.orderId()")
  public OrderPlaced shipOrderToAnUndefinedTopic(String id) {
    orders.save(new PurchaseOrder(id, 1));
    return new OrderPlaced(id, 1);
  }

  @Transactional
  public void placeOrderWithUnserializableEvent(String id) {
    orders.save(new PurchaseOrder(id, 1));
    outbox.publish("orders", id, new Unserializable());
  }

  @Transactional
  public void placeOrderExplicitly(String id) {
    orders.save(new PurchaseOrder(id, 1));
    outbox.publish("orders", id, new OrderPlaced(id, 1));
  }

  public void publishWithoutTransaction(String id) {
    outbox.publish("orders", id, new OrderPlaced(id, 1));
  }
}
