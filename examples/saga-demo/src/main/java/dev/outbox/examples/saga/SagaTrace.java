package dev.outbox.examples.saga;

import dev.outbox.inbox.InboxListener;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * What happened to each order, from three vantage points: the orders placed, the messages seen on
 * the broker (by the duplicate injector), and the inbox decisions of both services ({@link
 * InboxListener} beans registered in each application context).
 */
final class SagaTrace {

  /**
   * A message as first seen on the broker.
   *
   * @param location where it was seen, e.g. {@code orders-2@0} (Kafka topic, partition, offset)
   */
  record Published(String messageId, String type, String orderId, String location, String body) {}

  private record Step(long nanos, String orderId, @Nullable String messageId, String text) {}

  private final String broker;
  private final String idName;
  private final long start = System.nanoTime();
  private final List<Step> steps = new CopyOnWriteArrayList<>();
  private final Map<String, Published> published = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> duplicates = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> handledPerMessage = new ConcurrentHashMap<>();
  private final AtomicInteger injected = new AtomicInteger();

  /**
   * @param broker the broker's name in the printed steps ({@code kafka}, {@code rabbitmq})
   * @param idName what the broker calls the message id ({@code ce_id}, {@code message_id})
   */
  SagaTrace(String broker, String idName) {
    this.broker = broker;
    this.idName = idName;
  }

  void placed(String orderId, String text) {
    steps.add(new Step(System.nanoTime(), orderId, null, text));
  }

  void published(Published message) {
    published.putIfAbsent(message.messageId(), message);
    String body = message.type().equals("OrderPlaced") ? "" : "  " + message.body();
    steps.add(
        new Step(
            System.nanoTime(),
            message.orderId(),
            message.messageId(),
            String.format(
                "%-18s %s on %s, %s %s%s",
                broker, message.type(), message.location(), idName, message.messageId(), body)));
  }

  /**
   * @param location where the copy went
   */
  void duplicateSent(Published original, String location) {
    injected.incrementAndGet();
    steps.add(
        new Step(
            System.nanoTime(),
            original.orderId(),
            original.messageId(),
            String.format(
                "%-18s re-sent %s with the same %s: a duplicate delivery (%s)",
                "demo", original.type(), idName, location)));
  }

  /**
   * An inbox listener for the application context of {@code service}.
   *
   * @param effect what handling a message commits, for the trace
   */
  InboxListener listener(String service, String effect) {
    return new InboxListener() {
      @Override
      public void handled(String consumer, String messageId) {
        handled.computeIfAbsent(consumer, c -> new AtomicInteger()).incrementAndGet();
        handledPerMessage
            .computeIfAbsent(consumer + " " + messageId, c -> new AtomicInteger())
            .incrementAndGet();
        steps.add(
            new Step(
                System.nanoTime(),
                "",
                messageId,
                String.format("%-18s handled %%s: %s", service, effect)));
      }

      @Override
      public void duplicate(String consumer, String messageId) {
        duplicates.computeIfAbsent(consumer, c -> new AtomicInteger()).incrementAndGet();
        steps.add(
            new Step(
                System.nanoTime(),
                "",
                messageId,
                String.format(
                    "%-18s skipped %%s: %s already in its inbox, nothing changed",
                    service, idName)));
      }
    };
  }

  int handled(String consumer) {
    AtomicInteger count = handled.get(consumer);
    return count == null ? 0 : count.get();
  }

  int duplicates(String consumer) {
    AtomicInteger count = duplicates.get(consumer);
    return count == null ? 0 : count.get();
  }

  int injected() {
    return injected.get();
  }

  /**
   * How many different messages (by id) of a type starting with {@code typePrefix} each order got.
   */
  Map<String, Long> messagesPerOrder(String typePrefix) {
    return published.values().stream()
        .filter(message -> message.type().startsWith(typePrefix))
        .collect(
            java.util.stream.Collectors.groupingBy(
                Published::orderId, java.util.stream.Collectors.counting()));
  }

  /** Whether {@code consumer} ran its handler more than once for any message. */
  boolean handledAnyTwice(String consumer) {
    return handledPerMessage.entrySet().stream()
        .anyMatch(e -> e.getKey().startsWith(consumer + " ") && e.getValue().get() > 1);
  }

  /** Prints the steps of {@code orderId}, with times relative to its first step. */
  void print(PrintStream out, String orderId) {
    List<Step> mine = new ArrayList<>();
    for (Step step : steps) {
      String owner = step.orderId();
      String text = step.text();
      if (owner.isEmpty() && step.messageId() != null) {
        Published message = published.get(step.messageId());
        if (message == null) {
          continue;
        }
        owner = message.orderId();
        text = text.replace("%s", message.type());
      }
      if (owner.equals(orderId)) {
        mine.add(new Step(step.nanos(), owner, step.messageId(), text));
      }
    }
    mine.sort(Comparator.comparingLong(Step::nanos));
    long first = mine.isEmpty() ? start : mine.get(0).nanos();
    for (Step step : mine) {
      out.printf("    +%6.3fs  %s%n", (step.nanos() - first) / 1e9, step.text());
    }
  }
}
