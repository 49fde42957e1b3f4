package dev.outbox.kafka.e2e;

import dev.outbox.PublishEvent;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Domain code: saves an order and publishes its event in the same transaction. */
@Service
public class ShopService {

  /** The topic the events go to; the test creates it on the broker. */
  public static final String TOPIC = "shop-orders";

  private final ShopOrderRepository orders;

  public ShopService(ShopOrderRepository orders) {
    this.orders = orders;
  }

  @Transactional
  @PublishEvent(destination = TOPIC, key = "#result.orderId()", aggregateType = "Order")
  public OrderPlaced placeOrder(String orderId, int quantity) {
    orders.save(new ShopOrder(orderId, quantity));
    return new OrderPlaced(orderId, quantity);
  }

  /** Saves the order, then fails: the transaction rolls back. */
  @Transactional
  @PublishEvent(destination = TOPIC, key = "#result.orderId()")
  public OrderPlaced placeOrderThenFail(String orderId, int quantity) {
    orders.saveAndFlush(new ShopOrder(orderId, quantity));
    throw new IllegalStateException("payment declined");
  }

  /** Saves the order and returns an event payload that cannot be serialized. */
  @Transactional
  @PublishEvent(destination = TOPIC, key = "#result.orderId()")
  public Unserializable placeOrderWithUnserializableEvent(String orderId) {
    orders.saveAndFlush(new ShopOrder(orderId, 1));
    return new Unserializable(orderId);
  }
}
