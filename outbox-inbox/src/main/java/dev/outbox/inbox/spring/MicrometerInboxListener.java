package dev.outbox.inbox.spring;

import dev.outbox.inbox.InboxListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts messages per consumer: {@code outbox.inbox.handled} (handled and committed) and {@code
 * outbox.inbox.duplicates} (skipped because the consumer had handled them), tagged {@code
 * consumer}.
 */
public final class MicrometerInboxListener implements InboxListener {

  /** Messages handled, counted after their transaction committed. */
  public static final String HANDLED = "outbox.inbox.handled";

  /** Duplicate deliveries skipped. */
  public static final String DUPLICATES = "outbox.inbox.duplicates";

  private final MeterRegistry registry;
  private final Map<String, Counter> handled = new ConcurrentHashMap<>();
  private final Map<String, Counter> duplicates = new ConcurrentHashMap<>();

  public MicrometerInboxListener(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handled(String consumer, String messageId) {
    handled
        .computeIfAbsent(
            consumer,
            c ->
                Counter.builder(HANDLED)
                    .description("Messages handled by an idempotent consumer")
                    .tag("consumer", c)
                    .register(registry))
        .increment();
  }

  @Override
  public void duplicate(String consumer, String messageId) {
    duplicates
        .computeIfAbsent(
            consumer,
            c ->
                Counter.builder(DUPLICATES)
                    .description("Duplicate deliveries an idempotent consumer skipped")
                    .tag("consumer", c)
                    .register(registry))
        .increment();
  }
}
