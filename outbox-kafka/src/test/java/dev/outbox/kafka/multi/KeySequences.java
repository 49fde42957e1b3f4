package dev.outbox.kafka.multi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the writers wrote, per key, in write order — each event's JSON carries its key and its
 * per-key sequence number (1, 2, 3, ...) — and the check of what a consumer read against it.
 *
 * <p>The check walks each key's records in the order they were read. A record must carry the id
 * written for its sequence number. The next new sequence number must be exactly one more than the
 * highest seen so far; a lower one is a redelivery, allowed only because it repeats the id already
 * written for that number (at-least-once). A higher one is an order violation: an event of the key
 * was published while an earlier one was not yet. At the end every written sequence number must
 * have been read.
 */
public final class KeySequences {

  private static final Pattern PAYLOAD = Pattern.compile("\\{\"key\":\"([^\"]+)\",\"seq\":(\\d+)}");

  private final Map<String, List<UUID>> written = new ConcurrentHashMap<>();

  /** The JSON body of event {@code seq} of {@code key}. */
  public static String payload(String key, int seq) {
    return "{\"key\":\"" + key + "\",\"seq\":" + seq + "}";
  }

  /** The next sequence number of {@code key}; call from the key's only writer. */
  public int next(String key) {
    return ids(key).size() + 1;
  }

  /** Records that event {@code seq} of {@code key} committed with {@code id}. */
  public void committed(String key, int seq, UUID id) {
    List<UUID> ids = ids(key);
    synchronized (ids) {
      if (ids.size() != seq - 1) {
        throw new IllegalStateException(key + " committed " + seq + " after " + ids.size());
      }
      ids.add(id);
    }
  }

  private List<UUID> ids(String key) {
    return written.computeIfAbsent(key, k -> Collections.synchronizedList(new ArrayList<>()));
  }

  public int total() {
    return written.values().stream().mapToInt(List::size).sum();
  }

  /** Every written id. */
  public List<UUID> allIds() {
    List<UUID> all = new ArrayList<>();
    written.values().forEach(ids -> all.addAll(List.copyOf(ids)));
    return all;
  }

  /** The outcome of checking what was read. */
  public record Result(List<String> violations, int duplicates, int missing) {}

  /** Checks {@code records} against what was written; see the class comment. */
  public Result check(List<TopicTail.Received> records) {
    Map<String, List<TopicTail.Received>> byKey = new HashMap<>();
    for (TopicTail.Received record : records) {
      byKey.computeIfAbsent(record.key(), k -> new ArrayList<>()).add(record);
    }
    List<String> violations = new ArrayList<>();
    int duplicates = 0;
    int missing = 0;
    for (Map.Entry<String, List<UUID>> entry : written.entrySet()) {
      String key = entry.getKey();
      List<UUID> ids = List.copyOf(entry.getValue());
      int highest = 0;
      Set<UUID> read = new HashSet<>();
      for (TopicTail.Received record : byKey.getOrDefault(key, List.of())) {
        read.add(record.id());
        Matcher matcher = PAYLOAD.matcher(record.value());
        if (!matcher.matches() || !matcher.group(1).equals(key)) {
          violations.add(key + ": unexpected record " + record);
          continue;
        }
        int seq = Integer.parseInt(matcher.group(2));
        if (seq < 1 || seq > ids.size() || !ids.get(seq - 1).equals(record.id())) {
          violations.add(
              key + ": #" + seq + " arrived with id " + record.id() + ", not as written");
        } else if (seq == highest + 1) {
          highest = seq;
        } else if (seq <= highest) {
          duplicates++;
        } else {
          violations.add(
              key
                  + ": #"
                  + seq
                  + " (from "
                  + record.source()
                  + ", offset "
                  + record.offset()
                  + ") was published before #"
                  + (highest + 1));
          highest = seq;
        }
      }
      for (UUID id : ids) {
        if (!read.contains(id)) {
          missing++;
        }
      }
    }
    return new Result(violations, duplicates, missing);
  }
}
