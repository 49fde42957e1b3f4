package dev.outbox.inbox;

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
}
