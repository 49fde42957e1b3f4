package dev.outbox.rabbit.e2e;

import dev.outbox.PublishEvent;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** Domain code: saves an order and publishes its event in the same transaction. */
@Service
public class ShopService {

  /** The exchange the events go to; the test declares it and binds a queue to it. */
  public static final String EXCHANGE = "outbox-e2e-shop-orders";

  private final ShopOrderRepository orders;

  public ShopService(ShopOrderRepository orders) {
    this.orders = orders;
  }

  @Transactional
  @PublishEvent(destination = EXCHANGE, key = "#result.orderId()", aggregateType = "Order")
  public OrderPlaced placeOrder(String orderId, int quantity) {
    orders.save(new ShopOrder(orderId, quantity));
    return new OrderPlaced(orderId, quantity);
  }

  /** Saves the order, then fails: the transaction rolls back. */
  @Transactional
  @PublishEvent(destination = EXCHANGE, key = "#result.orderId()")
  public OrderPlaced placeOrderThenFail(String orderId, int quantity) {
    orders.saveAndFlush(new ShopOrder(orderId, quantity));
    throw new IllegalStateException("payment declined");
  }
}
