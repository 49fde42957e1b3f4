package dev.outbox.spring;

import dev.outbox.test.TestPostgres;
import java.util.UUID;

/**
 * Event rows written with SQL, as the relay leaves them after three failed attempts. Nothing wakes
 * a relay for them: a test that needs one published waits for a poll or wakes it itself.
 */
final class StoredEvents {

  private StoredEvents() {}

  /** Writes one row into {@code schema}'s table, created and last tried {@code age} ago. */
  static UUID insert(
      String schema,
      UUID id,
      String key,
      String status,
      String destination,
      String type,
      String error,
      String age) {
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + schema
                + ".outbox_event (id, destination, event_key, event_type, payload, status,"
                + " attempts, last_error, created_at, last_attempt_at) VALUES ('"
                + id
                + "', '"
                + destination
                + "', '"
                + key
                + "', '"
                + type
                + "', '{}', '"
                + status
                + "', 3, '"
                + error
                + "', now() - interval '"
                + age
                + "', now() - interval '"
                + age
                + "')");
    return id;
  }
}
