package dev.outbox.examples.order.demo;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code demo.*} properties.
 *
 * @param orders how many orders to place after startup; 0 switches the demo off
 * @param exit whether to exit once the demo is over: status 0 if every event arrived, 1 if not
 * @param timeout how long to wait for the consumer and for the events
 */
@ConfigurationProperties("demo")
public record DemoProperties(
    @DefaultValue("0") int orders,
    @DefaultValue("false") boolean exit,
    @DefaultValue("60s") Duration timeout) {}
