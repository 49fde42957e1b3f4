package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.EventIds;
import dev.outbox.OutboxEvent;
import dev.outbox.store.RelayStore.Candidate;
import dev.outbox.store.RelayStore.Held;
import dev.outbox.store.RelayStore.Leases;
import dev.outbox.store.RelayStore.Loaded;
import dev.outbox.store.RelayStore.Prefetched;
import dev.outbox.store.RelayStore.Undecodable;
import dev.outbox.test.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Reading and completing the rows of leased slots, against the real table. */
class PostgresSlotRowsIntegrationTests {

  private static final Duration TTL = Duration.ofSeconds(30);
  private static final List<Integer> ALL_SLOTS =
      IntStream.range(0, RelayStore.SLOTS).boxed().toList();

  private final String schema = TestPostgres.get().createSchema("rows");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository repository;
  private Leases leases;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    repository = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    leases = repository.rebalanceLeases("me", TTL, List.of());
  }

  @AfterEach
  void dropSchema() {
    repository.leave("me");
    TestPostgres.get().dropSchema(schema);
  }

  private static OutboxEvent event(String key) {
    return event("orders", key);
  }

  private static OutboxEvent event(String destination, String key) {
    return new OutboxEvent(
        EventIds.next(),
        0,
        destination,
        key,
        "Order",
        "OrderPlaced",
        1,
        "{\"key\":\"" + key + "\"}",
        Map.of("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        Instant.now().truncatedTo(ChronoUnit.MICROS),
        0);
  }

  private void append(OutboxEvent... events) throws Exception {
    try (Connection connection = TestPostgres.get().connect()) {
      repository.append(connection, List.of(events));
    }
  }

  private List<Candidate> candidates(List<String> held) {
    return candidates(ALL_SLOTS, 100, Held.ofKeys(held));
  }

  /**
   * The rows of {@code slots} this test's member reads under the tokens it holds every slot with.
   */
  private List<Candidate> candidates(List<Integer> slots, int perSlot, Held held) {
    return repository.candidates(slots, leases.tokens().values(), perSlot, held);
  }

  private Prefetched prefetch(List<Integer> slots, int perSlot, int limit, Held held) {
    return repository.prefetch(slots, leases.tokens().values(), perSlot, limit, held);
  }

  @Test
  void aSingleMemberLeasesEverySlot() {
    assertThat(leases.tokens()).hasSize(RelayStore.SLOTS);
    assertThat(leases.liveMembers()).isEqualTo(1);
  }

  @Test
  void candidatesAreNarrowRowsInWriteOrderAndLoadReturnsEveryFieldAsWritten() throws Exception {
    OutboxEvent first = event("a");
    OutboxEvent second = event(null);
    OutboxEvent third = event("a");
    append(first);
    append(second);
    append(third);

    List<Candidate> read = candidates(List.of());
    assertThat(read).extracting(Candidate::id).containsExactly(first.id(), second.id(), third.id());
    assertThat(read.get(0).key()).isEqualTo("a");
    assertThat(read.get(0).slot()).isEqualTo(read.get(2).slot()).as("a key keeps its slot");
    assertThat(read).allMatch(Candidate::due);

    List<OutboxEvent> loaded = repository.load(List.of(third.id(), first.id())).events();
    assertThat(loaded).extracting(OutboxEvent::id).containsExactly(first.id(), third.id());
    assertThat(loaded.get(0))
        .usingRecursiveComparison()
        .ignoringFields("sequence")
        .isEqualTo(first);
  }

  @Test
  void aPrefetchReadsTheRowsCandidatesReadsWithTheirEventsAndLeavesOutHeldKeys() throws Exception {
    OutboxEvent first = event("a");
    OutboxEvent unkeyed = event(null);
    OutboxEvent held = event("held");
    OutboxEvent third = event("a");
    append(first);
    append(unkeyed);
    append(held);
    append(third);

    Prefetched read = prefetch(ALL_SLOTS, 100, 1000, Held.ofKeys(List.of("held")));

    assertThat(read.candidates()).isEqualTo(candidates(List.of("held")));
    assertThat(read.candidates())
        .extracting(Candidate::id)
        .containsExactly(first.id(), unkeyed.id(), third.id());
    assertThat(read.loaded().events())
        .extracting(OutboxEvent::id)
        .containsExactly(first.id(), unkeyed.id(), third.id());
    assertThat(read.loaded().events().get(0))
        .usingRecursiveComparison()
        .ignoringFields("sequence")
        .isEqualTo(first);
    assertThat(read.loaded().undecodable()).isEmpty();
  }

  /**
   * The keys a relay holds back while a destination refuses events: the distinct keys of that
   * destination's pending events among each slot's oldest rows, unkeyed ones left out; a row deeper
   * in its slot than asked is not read.
   */
  @Test
  void pendingKeysAreTheDistinctKeysOfADestinationAmongEachSlotsOldestRows() throws Exception {
    append(event("shut", "a"), event("shut", "a"), event("orders", "a"), event("shut", "b"));
    append(event("shut", null), event("orders", "c"));
    append(event("orders", "deep"), event("orders", "deep"), event("orders", "deep"));
    append(event("shut", "deep"));

    assertThat(repository.pendingKeys("shut", ALL_SLOTS, 100))
        .containsExactlyInAnyOrder("a", "b", "deep");
    assertThat(repository.pendingKeys("shut", ALL_SLOTS, 3))
        .as("the fourth row of its slot, read only from a depth of 4")
        .doesNotContain("deep")
        .contains("a", "b");
    assertThat(repository.pendingKeys("shut", List.of(Slots.ofText("a")), 100)).contains("a");
    assertThat(repository.pendingKeys("orders", ALL_SLOTS, 100))
        .containsExactlyInAnyOrder("a", "c", "deep");
    assertThat(repository.pendingKeys("nowhere", ALL_SLOTS, 100)).isEmpty();
  }

  /**
   * A closed destination leaves out its unkeyed rows, in both reads; its keyed rows are left out
   * only by their keys, and other destinations' unkeyed rows not at all.
   */
  @Test
  void aClosedDestinationLeavesOutItsUnkeyedRowsOnly() throws Exception {
    OutboxEvent shutUnkeyed = event("shut", null);
    OutboxEvent shutKeyed = event("shut", "k1");
    OutboxEvent openUnkeyed = event("open", null);
    append(shutUnkeyed, shutKeyed, openUnkeyed);
    Held closed = new Held(List.of(), List.of("shut"));

    for (int read = 0; read < 7; read++) { // past the driver's and the server's plan caching
      assertThat(candidates(ALL_SLOTS, 100, closed))
          .extracting(Candidate::id)
          .containsExactly(shutKeyed.id(), openUnkeyed.id());
      assertThat(prefetch(ALL_SLOTS, 100, 1000, closed).candidates())
          .extracting(Candidate::id)
          .containsExactly(shutKeyed.id(), openUnkeyed.id());
    }
    assertThat(candidates(ALL_SLOTS, 100, new Held(List.of("k1"), List.of("shut"))))
        .extracting(Candidate::id)
        .containsExactly(openUnkeyed.id());
  }

  /** Thousands of held keys (a closed destination's) leave out exactly their rows. */
  @Test
  void thousandsOfHeldKeysLeaveOutExactlyTheirRows() throws Exception {
    seedBacklog();
    List<String> held = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      if (i != 7 && i != 4_242) {
        held.add("k" + i);
      }
    }

    for (int read = 0; read < 7; read++) { // past the driver's and the server's plan caching
      assertThat(candidates(ALL_SLOTS, 100, Held.ofKeys(held)))
          .extracting(Candidate::key)
          .containsOnly("k7", "k4242")
          .hasSize(4);
    }
  }

  /**
   * Input: a row another writer stored with {@code event_version} 0 (possible on a table without
   * the version constraint). Both reads report it as undecodable with the reason, and still return
   * the event written after it.
   */
  @Test
  void bothReadsReportARowThatCannotBeDecodedAndReturnTheOthers() throws Exception {
    TestPostgres.get()
        .execute("ALTER TABLE " + table + " DROP CONSTRAINT outbox_event_event_version_positive");
    UUID bad = UUID.randomUUID();
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table
                + " (id, destination, event_key, event_type, event_version, payload) VALUES ('"
                + bad
                + "', 'orders', 'k', 'OrderPlaced', 0, '{}')");
    OutboxEvent good = event("k");
    append(good);
    Undecodable expected =
        new Undecodable(
            bad, "k", 0, "Cannot decode the stored event: event_version must be at least 1, was 0");

    Loaded loaded = repository.load(List.of(bad, good.id()));
    Prefetched prefetched = prefetch(ALL_SLOTS, 100, 1000, Held.NONE);

    assertThat(loaded.undecodable()).containsExactly(expected);
    assertThat(loaded.events()).extracting(OutboxEvent::id).containsExactly(good.id());
    assertThat(prefetched.loaded().undecodable()).containsExactly(expected);
    assertThat(prefetched.loaded().events()).extracting(OutboxEvent::id).containsExactly(good.id());
    assertThat(prefetched.candidates()).extracting(Candidate::id).containsExactly(bad, good.id());
  }

  /**
   * A prefetch stops at its limit without reading the payloads of the rows it leaves out, and what
   * it returns of each slot is that slot's oldest rows, so no key's event comes without the older
   * events of the key.
   */
  @Test
  void aPrefetchOfABacklogStopsAtItsLimitOnEachSlotsOldestRowsWithoutTemporaryFiles()
      throws Exception {
    seedBacklog();
    List<Integer> half = ALL_SLOTS.subList(0, 32);
    long before = tempBytes();

    Prefetched read = prefetch(half, 63, 1000, Held.NONE);

    assertThat(tempBytes() - before).as("temp bytes written by the read").isZero();
    assertThat(read.candidates()).hasSize(1000);
    assertThat(read.loaded().events()).hasSize(1000);
    Map<Integer, List<UUID>> oldest = new HashMap<>();
    for (Candidate candidate : candidates(half, 63, Held.NONE)) {
      oldest.computeIfAbsent(candidate.slot(), slot -> new ArrayList<>()).add(candidate.id());
    }
    Map<Integer, List<UUID>> prefetched = new HashMap<>();
    for (Candidate candidate : read.candidates()) {
      prefetched.computeIfAbsent(candidate.slot(), slot -> new ArrayList<>()).add(candidate.id());
    }
    prefetched.forEach(
        (slot, ids) ->
            assertThat(ids)
                .as("slot %d", slot)
                .containsExactlyElementsOf(oldest.get(slot).subList(0, ids.size())));
  }

  @Test
  void completeDeletesPublishedSchedulesRetriesAndMarksDead() throws Exception {
    OutboxEvent published = event("p");
    OutboxEvent retried = event("r");
    OutboxEvent dead = event("d");
    append(published, retried, dead);

    var completion =
        repository.complete(
            "me",
            leases.tokens().values(),
            List.of(published.id()),
            List.of(new RelayStore.Retry(retried.id(), 1, Duration.ofHours(1), "timeout")),
            List.of(new RelayStore.Dead(dead.id(), 4, "too large")));

    assertThat(completion).isEqualTo(new RelayStore.Completion(1, 1, 1));
    assertThat(candidates(List.of()))
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.id()).isEqualTo(retried.id());
              assertThat(c.attempts()).isEqualTo(1);
              assertThat(c.due()).as("the retry is due in an hour").isFalse();
              assertThat(c.waitMillis()).isBetween(3_500_000L, 3_600_000L);
            });
    var stats = repository.stats();
    assertThat(stats.pending()).isEqualTo(1);
    assertThat(stats.dead()).isEqualTo(1);
    assertThat(repository.findDead(10))
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.event().id()).isEqualTo(dead.id());
              assertThat(d.event().attempts()).isEqualTo(4);
              assertThat(d.lastError()).isEqualTo("too large");
            });
  }

  /**
   * Published rows are deleted by statements that commit without waiting for the WAL fsync: 200
   * completions of one event each, against 200 deletes of one row each by an application's
   * autocommit statements (the control, one fsync per commit). The setting does not outlive the
   * statement: the session (reused, as a pool would) still has the server's setting afterwards.
   * Retries and dead events stay durable: 100 completions of one each make at least 100 fsyncs.
   */
  @Test
  void deletingPublishedEventsDoesNotWaitForTheWalFlushWhileRetriesAndDeadEventsDo()
      throws Exception {
    int count = 200;
    List<OutboxEvent> control = IntStream.range(0, count).mapToObj(n -> event("c" + n)).toList();
    List<OutboxEvent> published = IntStream.range(0, count).mapToObj(n -> event("p" + n)).toList();
    List<OutboxEvent> failed = IntStream.range(0, 100).mapToObj(n -> event("f" + n)).toList();
    append(control.toArray(OutboxEvent[]::new));
    append(published.toArray(OutboxEvent[]::new));
    append(failed.toArray(OutboxEvent[]::new));

    WalSyncs application = new WalSyncs();
    long controlSyncs =
        application.during(
            () ->
                application.deleteEachOnItsOwn(
                    table, control.stream().map(OutboxEvent::id).toList()));
    WalSyncs relay = new WalSyncs();
    String serverSetting = relay.setting("synchronous_commit");
    PostgresSlotRows rows =
        new PostgresSlotRows(
            new StoreConnections(relay.dataSource()), table, StoreOptions.defaults());
    List<Integer> deleted = new ArrayList<>();
    List<String> settingAfter = new ArrayList<>();
    long relaySyncs =
        relay.during(
            () -> {
              for (OutboxEvent event : published) {
                deleted.add(
                    rows.complete(
                            "me",
                            leases.tokens().values(),
                            List.of(event.id()),
                            List.of(),
                            List.of())
                        .deleted());
              }
              settingAfter.add(relay.setting("synchronous_commit"));
            });
    WalSyncs failing = new WalSyncs();
    PostgresSlotRows failingRows =
        new PostgresSlotRows(
            new StoreConnections(failing.dataSource()), table, StoreOptions.defaults());
    long failureSyncs =
        failing.during(
            () -> {
              for (int i = 0; i < failed.size(); i++) {
                UUID id = failed.get(i).id();
                failingRows.complete(
                    "me",
                    leases.tokens().values(),
                    List.of(),
                    i % 2 == 0
                        ? List.of(new RelayStore.Retry(id, 1, Duration.ofHours(1), "timeout"))
                        : List.of(),
                    i % 2 == 0 ? List.of() : List.of(new RelayStore.Dead(id, 4, "too large")));
              }
            });

    assertThat(deleted).as("every completion deleted its row").containsOnly(1).hasSize(count);
    assertThat(repository.stats().pending()).isEqualTo(50);
    assertThat(repository.stats().dead()).isEqualTo(50);
    assertThat(settingAfter).containsExactly(serverSetting);
    assertThat(controlSyncs)
        .as("fsyncs of the application's deletes")
        .isGreaterThanOrEqualTo(count);
    assertThat(relaySyncs)
        .as("fsyncs of the relay's deletes (the WAL writer's own flushes included)")
        .isLessThan(count / 2);
    assertThat(failureSyncs)
        .as("fsyncs of 100 retries and dead events")
        .isGreaterThanOrEqualTo(100);
  }

  @Test
  void aCompletionUnderATokenThatIsNoLongerHeldTouchesNothing() throws Exception {
    OutboxEvent event = event("K");
    append(event);
    List<Long> stale = List.copyOf(leases.tokens().values());
    // Another member takes every slot over (new tokens) after this one left.
    repository.leave("me");
    Leases other = repository.rebalanceLeases("other", TTL, List.of());

    var completion =
        repository.complete(
            "me",
            stale,
            List.of(event.id()),
            List.of(new RelayStore.Retry(event.id(), 1, Duration.ofMinutes(1), "x")),
            List.of(new RelayStore.Dead(event.id(), 1, "x")));
    assertThat(completion.total()).isZero();
    assertThat(repository.candidates(ALL_SLOTS, other.tokens().values(), 100, Held.NONE))
        .singleElement()
        .satisfies(c -> assertThat(c.attempts()).as("attempts, not charged").isZero());
    assertThat(repository.stats().pending()).isEqualTo(1);
    repository.leave("other");
  }

  /**
   * The relay's reads are fenced like its completions: a slot taken over by another member since
   * the tokens were granted reads as empty, in a prefetch as in a narrow read; the slots still held
   * are read as before, in the order given (which a prefetch's limit cuts).
   */
  @Test
  void aFencedReadReadsOnlyTheSlotsStillHeldUnderItsTokensInTheOrderGiven() throws Exception {
    String lostKey = keyInSlot(5);
    String keptKey = keyInSlot(9);
    OutboxEvent lost1 = event(lostKey);
    OutboxEvent kept1 = event(keptKey);
    OutboxEvent lost2 = event(lostKey);
    OutboxEvent kept2 = event(keptKey);
    append(lost1, kept1, lost2, kept2);
    List<Integer> slots = List.of(5, 9);
    List<Long> granted = List.of(leases.tokens().get(5), leases.tokens().get(9));

    // Both still held: everything is read, in a prefetch up to its limit from the first slot given
    assertThat(repository.candidates(slots, granted, 10, Held.NONE))
        .extracting(Candidate::id)
        .containsExactly(lost1.id(), kept1.id(), lost2.id(), kept2.id());
    assertThat(repository.prefetch(List.of(9, 5), granted, 10, 2, Held.NONE).candidates())
        .extracting(Candidate::id)
        .containsExactly(kept1.id(), kept2.id());
    assertThat(repository.prefetch(slots, granted, 10, 2, Held.NONE).candidates())
        .extracting(Candidate::id)
        .containsExactly(lost1.id(), lost2.id());

    // Another member takes slot 5 over, under a new token
    TestPostgres.get()
        .execute(
            "UPDATE "
                + table
                + "_slot SET owner = 'other', token = nextval('"
                + table
                + "_slot_token_seq') WHERE slot = 5");

    assertThat(repository.candidates(slots, granted, 10, Held.NONE))
        .extracting(Candidate::id)
        .containsExactly(kept1.id(), kept2.id());
    Prefetched prefetched = repository.prefetch(slots, granted, 10, 10, Held.NONE);
    assertThat(prefetched.candidates())
        .extracting(Candidate::id)
        .containsExactly(kept1.id(), kept2.id());
    assertThat(prefetched.loaded().events())
        .extracting(OutboxEvent::id)
        .containsExactly(kept1.id(), kept2.id());
    assertThat(repository.candidates(List.of(5), granted, 10, Held.NONE)).isEmpty();
    assertThat(repository.prefetch(List.of(5), granted, 10, 10, Held.NONE).candidates()).isEmpty();
    // The new owner's token reads its slot
    long taken =
        TestPostgres.get().queryLong("SELECT token FROM " + table + "_slot WHERE slot = 5");
    assertThat(repository.candidates(List.of(5), List.of(taken), 10, Held.NONE))
        .extracting(Candidate::id)
        .containsExactly(lost1.id(), lost2.id());
  }

  private static String keyInSlot(int slot) {
    for (int i = 0; ; i++) {
      if (Slots.ofText("k" + i) == slot) {
        return "k" + i;
      }
    }
  }

  @Test
  void heldKeysAreLeftOutSoAStuckKeyWithManyQueuedEventsDoesNotHideOthers() throws Exception {
    OutboxEvent head = event("stuck");
    append(head);
    List<OutboxEvent> queued = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      queued.add(event("stuck"));
    }
    append(queued.toArray(OutboxEvent[]::new));
    OutboxEvent other = event("other");
    append(other);
    repository.complete(
        "me",
        leases.tokens().values(),
        List.of(),
        List.of(new RelayStore.Retry(head.id(), 1, Duration.ofHours(1), "x")),
        List.of());

    assertThat(candidates(ALL_SLOTS, 16, Held.ofKeys(List.of("stuck"))))
        .extracting(Candidate::id)
        .containsExactly(other.id());
  }

  @Test
  void aDeadEventHoldsBackItsKeyOnlyWhenConfigured() throws Exception {
    OutboxEvent dead = event("K");
    OutboxEvent later = event("K");
    append(dead, later);
    repository.complete(
        "me",
        leases.tokens().values(),
        List.of(),
        List.of(),
        List.of(new RelayStore.Dead(dead.id(), 1, "x")));
    var blocking =
        new PostgresOutboxRepository(
            TestPostgres.get().dataSource(),
            table,
            StoreOptions.defaults().withDeadEventBlocksKey(true));

    assertThat(blocking.candidates(ALL_SLOTS, leases.tokens().values(), 10, Held.NONE)).isEmpty();
    assertThat(candidates(List.of())).extracting(Candidate::id).containsExactly(later.id());
  }

  @Test
  void javaAndTheDatabaseAgreeOnTheSlotOfEveryKeyAndOfUnkeyedEvents() throws Exception {
    List<OutboxEvent> written = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      written.add(event("order-" + i));
      written.add(event("Bestellung-Ü-" + i + "-注文-🚚"));
      written.add(event(null));
    }
    append(written.toArray(OutboxEvent[]::new));
    Map<UUID, Integer> slots = new HashMap<>();
    for (Candidate candidate : candidates(ALL_SLOTS, 10_000, Held.NONE)) {
      slots.put(candidate.id(), candidate.slot());
    }
    assertThat(slots).hasSize(written.size());
    for (OutboxEvent event : written) {
      assertThat(slots.get(event.id()))
          .as("slot of key %s", event.key())
          .isEqualTo(Slots.of(event.key(), event.id()));
    }
    assertThat(slots.values()).as("the keys spread over every slot").containsAll(ALL_SLOTS);
  }

  @Test
  void readingABacklogWritesNoTemporaryFiles() throws Exception {
    seedBacklog();
    long before = tempBytes();
    List<Integer> half = ALL_SLOTS.subList(0, 32);
    List<Candidate> read = candidates(half, 63, Held.NONE);
    repository.load(read.stream().map(Candidate::id).toList());
    assertThat(read).hasSize(32 * 63);
    assertThat(tempBytes() - before).as("temp bytes written by the reads").isZero();
  }

  /**
   * A fresh connection plans a statement's first executions for their parameters (custom plans).
   * For the completion's {@code DELETE}, such a plan once joined the slot table first and looked
   * the whole batch up by id once per held slot: 64 times the work, 100-600 ms per batch of 1,000.
   * Forced to plan custom, the statement now reads each row's index entry about once.
   */
  @Test
  void completingABatchLooksEachRowUpOnceWhateverPlanThePlannerPicks() throws Exception {
    seedBacklog();
    // One of two workers: half of the slots, and the oldest rows of those.
    List<Integer> half = ALL_SLOTS.subList(0, RelayStore.SLOTS / 2);
    List<Long> tokens = half.stream().map(leases.tokens()::get).toList();
    List<UUID> batch =
        candidates(half, 32, Held.NONE).stream().map(Candidate::id).limit(1000).toList();
    PostgresSlotRows rows =
        new PostgresSlotRows(
            new StoreConnections(TestPostgres.get().dataSource()), table, StoreOptions.defaults());
    for (String mode : List.of("force_custom_plan", "force_generic_plan")) {
      try (Connection connection = TestPostgres.get().connect()) {
        connection.setAutoCommit(false);
        try (Statement set = connection.createStatement()) {
          set.execute("SET LOCAL plan_cache_mode = " + mode);
        }
        String plan;
        try (PreparedStatement explain =
            connection.prepareStatement(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + rows.deleteStatement())) {
          explain.setArray(1, connection.createArrayOf("uuid", batch.toArray()));
          explain.setString(2, "me");
          explain.setArray(3, connection.createArrayOf("int8", tokens.toArray()));
          try (ResultSet result = explain.executeQuery()) {
            result.next();
            plan = result.getString(1);
          }
        }
        connection.rollback();
        Matcher hits = Pattern.compile("\"Shared Hit Blocks\": (\\d+)").matcher(plan);
        Matcher reads = Pattern.compile("\"Shared Read Blocks\": (\\d+)").matcher(plan);
        assertThat(hits.find() && reads.find()).as(plan).isTrue();
        long blocks = Long.parseLong(hits.group(1)) + Long.parseLong(reads.group(1));
        assertThat(blocks)
            .as("buffers the DELETE of %d rows touched (%s): %s", batch.size(), mode, plan)
            .isLessThan(10L * batch.size());
      }
    }
  }

  /** 20,000 pending events of 10,000 keys with 1 KB payloads, written server-side and analyzed. */
  private void seedBacklog() {
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table
                + " (id, destination, event_key, event_type, payload) SELECT gen_random_uuid(),"
                + " 'orders', 'k' || (n % 10000), 'OrderPlaced', repeat('x', 1000) FROM"
                + " generate_series(1, 20000) n");
    TestPostgres.get().execute("ANALYZE " + table);
  }

  private long tempBytes() {
    TestPostgres.get().execute("SELECT pg_stat_clear_snapshot()");
    return TestPostgres.get()
        .queryLong("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()");
  }
}
