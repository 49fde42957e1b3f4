package dev.outbox.benchmarks;

import java.util.List;
import org.springframework.modulith.events.Externalized;

/**
 * The benchmark payload for Spring Modulith: the fields (and so the JSON) of {@link OrderEvent},
 * externalized to the topic {@value #TOPIC} with the order id as record key.
 */
@Externalized(ModulithOrderEvent.TOPIC + "::#{#this.orderId()}")
public record ModulithOrderEvent(
    long n,
    String orderId,
    String customerId,
    long amountCents,
    String currency,
    OrderEvent.Address shipTo,
    List<OrderEvent.Line> lines) {

  static final String TOPIC = "bench-modulith";

  static ModulithOrderEvent of(long n, int keys) {
    OrderEvent event = OrderEvent.of(n, keys);
    return new ModulithOrderEvent(
        n,
        event.orderId(),
        event.customerId(),
        event.amountCents(),
        event.currency(),
        event.shipTo(),
        event.lines());
  }
}
