package dev.outbox.inbox;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Remembers what the inbox reported, as {@code "handled consumer id"} / {@code "duplicate ..."}.
 */
public final class RecordingInboxListener implements InboxListener {

  private final List<String> events = new CopyOnWriteArrayList<>();

  @Override
  public void handled(String consumer, String messageId) {
    events.add("handled " + consumer + " " + messageId);
  }

  @Override
  public void duplicate(String consumer, String messageId) {
    events.add("duplicate " + consumer + " " + messageId);
  }

  public List<String> events() {
    return List.copyOf(events);
  }

  public long count(String event) {
    return events.stream().filter(event::equals).count();
  }

  /**
   * Awaits one {@code handled} and one {@code duplicate} report of {@code messageId} for {@code
   * consumer}. A delivery is reported handled after its commit returns, so another delivery, let
   * through by that commit, may report its duplicate first.
   */
  public void awaitHandledOnceAndDuplicateOnce(String consumer, String messageId, Duration atMost) {
    await()
        .atMost(atMost)
        .until(
            () ->
                count("duplicate " + consumer + " " + messageId) == 1
                    && count("handled " + consumer + " " + messageId) == 1);
  }
}
