package dev.outbox.examples.order.demo;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/** Prints each event the demo consumer receives, and lets the demo wait for the ones it expects. */
public final class ReceivedEvents {

  private final PrintStream out;
  private final List<ReceivedEvent> received = new CopyOnWriteArrayList<>();
  private final Set<String> keys = new HashSet<>();

  public ReceivedEvents(PrintStream out) {
    this.out = out;
  }

  /** Records and prints one event; called by the consumer's thread. */
  public void received(ReceivedEvent event) {
    StringBuilder text = new StringBuilder();
    text.append(String.format("%n<- %s received from %s%n", event.type(), event.origin()));
    text.append(String.format("     %-18s %s%n", "key", event.key()));
    for (Map.Entry<String, String> attribute : event.attributes().entrySet()) {
      text.append(String.format("     %-18s %s%n", attribute.getKey(), attribute.getValue()));
    }
    text.append(String.format("     %-18s %s%n", "body", event.body()));
    out.print(text);
    out.flush();
    received.add(event);
    synchronized (keys) {
      if (event.key() != null) {
        keys.add(event.key());
      }
      keys.notifyAll();
    }
  }

  /** Every event received so far, in arrival order. */
  public List<ReceivedEvent> all() {
    return List.copyOf(received);
  }

  /**
   * Waits until an event with each of {@code expected} keys has arrived.
   *
   * @return how many of them arrived
   */
  public int awaitKeys(Collection<String> expected, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (keys) {
      while (true) {
        int seen = (int) expected.stream().filter(keys::contains).count();
        long left = deadline - System.nanoTime();
        if (seen == expected.size() || left <= 0) {
          return seen;
        }
        keys.wait(Math.max(1, left / 1_000_000));
      }
    }
  }
}
