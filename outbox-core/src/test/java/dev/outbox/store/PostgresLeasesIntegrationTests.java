package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.outbox.store.RelayStore.Leases;
import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestThreads;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Slot leases between relay members, against the real database. Each member is a repository of its
 * own (its own anchor connection), as separate instances would be.
 */
class PostgresLeasesIntegrationTests {

  private static final Duration TTL = Duration.ofSeconds(30);

  private final String schema = TestPostgres.get().createSchema("leases");
  private final TableName table = TableName.of(schema, "outbox_event");
  private PostgresOutboxRepository a;
  private PostgresOutboxRepository b;

  @BeforeEach
  void setUp() {
    OutboxSchema.create(TestPostgres.get().dataSource(), table);
    a = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
    b = new PostgresOutboxRepository(TestPostgres.get().dataSource(), table);
  }

  @AfterEach
  void dropSchema() {
    TestPostgres.get().dropSchema(schema);
  }

  /** Renews and rebalances the way the lease keeper does, until nothing changes. */
  private static Leases settle(PostgresOutboxRepository repository, String member, Duration ttl) {
    Leases leases = repository.renewLeases(member, ttl);
    if (leases.unbalanced()) {
      List<Integer> mine = List.copyOf(leases.tokens().keySet());
      int excess = Math.max(0, mine.size() - leases.fairShare());
      leases = repository.rebalanceLeases(member, ttl, mine.subList(0, excess));
    }
    return leases;
  }

  private long anchorPid(String member) {
    return TestPostgres.get()
        .queryLong("SELECT pid FROM " + table + "_relay WHERE member = '" + member + "'");
  }

  /**
   * Ends the backend {@code pid} as a killed instance's ends. It leaves pg_stat_activity only once
   * its process has exited, which on a loaded machine can take a while after the signal: a renewal
   * after this method must see it gone.
   */
  private static void endSession(long pid) {
    TestPostgres.get().execute("SELECT pg_terminate_backend(" + pid + ")");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                TestPostgres.get()
                        .queryLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)
                    == 0);
  }

  @Test
  void twoMembersSplitTheSlotsWithoutOverlapAfterARenewalEach() {
    assertThat(settle(a, "a", TTL).tokens()).hasSize(RelayStore.SLOTS);

    Leases joined = settle(b, "b", TTL);
    assertThat(joined.liveMembers()).isEqualTo(2);
    assertThat(joined.tokens()).as("nothing is free until a gives slots up").isEmpty();

    Leases gaveUp = settle(a, "a", TTL);
    assertThat(gaveUp.tokens()).hasSize(RelayStore.SLOTS / 2);
    Leases took = settle(b, "b", TTL);
    assertThat(took.tokens()).hasSize(RelayStore.SLOTS / 2);

    Set<Integer> all = new HashSet<>(gaveUp.tokens().keySet());
    all.addAll(took.tokens().keySet());
    assertThat(all).hasSize(RelayStore.SLOTS);
    assertThat(settle(a, "a", TTL).unbalanced()).isFalse();
    assertThat(settle(b, "b", TTL).unbalanced()).isFalse();
  }

  @Test
  void aKilledMembersSlotsAreTakenAtTheNextRenewalWithNewTokens() {
    Leases before = settle(a, "a", TTL);
    assertThat(before.tokens()).hasSize(RelayStore.SLOTS);
    settle(b, "b", TTL);

    // The instance dies: its database session ends, long before its lease would expire.
    long pid = anchorPid("a");
    assertThat(
            TestPostgres.get()
                .queryLong("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid))
        .isEqualTo(1);
    endSession(pid);

    Leases after = settle(b, "b", TTL);
    assertThat(after.liveMembers()).isEqualTo(1);
    assertThat(after.tokens()).hasSize(RelayStore.SLOTS);
    assertThat(after.tokens().values()).doesNotContainAnyElementsOf(before.tokens().values());
  }

  /**
   * Instances that log in as different database roles: PostgreSQL shows a session of another role
   * in {@code pg_stat_activity} with its pid but without its {@code backend_start} (unless the
   * viewer has {@code pg_read_all_stats}). A live member of another role keeps its slots, renewal
   * after renewal, and a killed one still loses them at the next renewal.
   */
  @Test
  void membersLoggedInAsDifferentRolesKeepTheirSlotsWhileAliveAndLoseThemWhenKilled() {
    String roleA = schema + "_a";
    String roleB = schema + "_b";
    try {
      for (String role : List.of(roleA, roleB)) {
        TestPostgres.get().execute("CREATE ROLE " + role + " LOGIN");
        grantWhatTheRelayNeeds(role);
      }
      membersKeepTheirSlotsWhileAliveAndLoseThemWhenKilled(
          loggedInAs(roleA, null), loggedInAs(roleB, null));
    } finally {
      dropRoles(roleA, roleB);
    }
  }

  /**
   * Instances that log in as one role and act as another ({@code SET ROLE}, here through the
   * connection's {@code options}; also Hikari's {@code connection-init-sql} or a role's default
   * {@code role} setting): PostgreSQL then hides even the session's own {@code backend_start} from
   * it. The members register without it, by their pid, and behave as above (the registration failed
   * on its NOT NULL column before, and no slot was ever taken).
   */
  @Test
  void membersActingAsAnotherRoleThanTheyLoggedInAsKeepTheirSlotsAndLoseThemWhenKilled() {
    String login = schema + "_login";
    String app = schema + "_app";
    try {
      TestPostgres.get().execute("CREATE ROLE " + app + " NOLOGIN");
      grantWhatTheRelayNeeds(app);
      TestPostgres.get().execute("CREATE ROLE " + login + " LOGIN IN ROLE " + app);
      membersKeepTheirSlotsWhileAliveAndLoseThemWhenKilled(
          loggedInAs(login, app), loggedInAs(login, app));
    } finally {
      dropRoles(login, app);
    }
  }

  /**
   * A database whose default isolation is serializable (or repeatable read): a rebalance that had
   * to wait for another session's lock on the slot table, which then changed the slots, still goes
   * through, as it does under read committed (it failed with "could not serialize access due to
   * concurrent update" and left the instance without slots until a later try).
   */
  @Test
  void aRebalanceThatWaitedForAnotherStillGoesThroughWhenTheDefaultIsolationIsSerializable()
      throws Exception {
    PGSimpleDataSource serializable = loggedInAs(TestPostgres.get().user(), null);
    serializable.setPassword(TestPostgres.get().password());
    serializable.setOptions("-c default_transaction_isolation=serializable");
    PostgresOutboxRepository member = new PostgresOutboxRepository(serializable, table);
    try (Connection other = TestPostgres.get().connect()) {
      member.renewLeases("s", TTL);
      long pid = anchorPid("s");
      other.setAutoCommit(false);
      try (Statement statement = other.createStatement()) {
        statement.execute("SELECT slot FROM " + table + "_slot FOR UPDATE");
      }
      CompletableFuture<Leases> rebalance =
          CompletableFuture.supplyAsync(
              () -> member.rebalanceLeases("s", TTL, List.of()), TestThreads.OWN_THREAD);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> TestPostgres.get().sessionsWaitingForALock(pid) == 1);
      try (Statement statement = other.createStatement()) {
        statement.execute("UPDATE " + table + "_slot SET owner = owner");
      }
      other.commit();
      assertThat(rebalance.get(60, TimeUnit.SECONDS).tokens()).hasSize(RelayStore.SLOTS);
    } finally {
      member.leave("s");
    }
  }

  private void membersKeepTheirSlotsWhileAliveAndLoseThemWhenKilled(
      DataSource first, DataSource second) {
    PostgresOutboxRepository asA = new PostgresOutboxRepository(first, table);
    PostgresOutboxRepository asB = new PostgresOutboxRepository(second, table);
    try {
      assertThat(settle(asA, "a", TTL).tokens()).hasSize(RelayStore.SLOTS);
      assertThat(settle(asB, "b", TTL).liveMembers()).as("b sees a alive").isEqualTo(2);
      Leases gaveUp = settle(asA, "a", TTL);
      assertThat(gaveUp.liveMembers()).as("a sees b alive").isEqualTo(2);
      Leases took = settle(asB, "b", TTL);
      for (int renewal = 0; renewal < 3; renewal++) {
        assertThat(settle(asA, "a", TTL).tokens()).isEqualTo(gaveUp.tokens());
        assertThat(settle(asB, "b", TTL).tokens()).isEqualTo(took.tokens());
      }
      assertThat(gaveUp.tokens()).hasSize(RelayStore.SLOTS / 2);
      assertThat(took.tokens()).hasSize(RelayStore.SLOTS / 2);

      endSession(anchorPid("a"));
      Leases after = settle(asB, "b", TTL);
      assertThat(after.liveMembers()).isEqualTo(1);
      assertThat(after.tokens()).hasSize(RelayStore.SLOTS);
    } finally {
      asB.leave("b");
    }
  }

  /** The grants docs/schema.md lists, no more. */
  private void grantWhatTheRelayNeeds(String role) {
    TestPostgres.get().execute("GRANT USAGE ON SCHEMA " + schema + " TO " + role);
    TestPostgres.get()
        .execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                + schema
                + " TO "
                + role);
    TestPostgres.get().execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + role);
  }

  private static void dropRoles(String... roles) {
    for (String role : roles) {
      TestPostgres.get()
          .execute(
              "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '"
                  + role
                  + "'");
    }
    for (String role : roles) {
      TestPostgres.get().execute("DROP OWNED BY " + role);
      TestPostgres.get().execute("DROP ROLE IF EXISTS " + role);
    }
  }

  /** Connections logging in as {@code login}, acting as {@code role} if it is not null. */
  private static PGSimpleDataSource loggedInAs(String login, @Nullable String role) {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setUrl(TestPostgres.get().url());
    dataSource.setUser(login);
    if (role != null) {
      dataSource.setOptions("-c role=" + role);
    }
    return dataSource;
  }

  @Test
  void aFrozenMemberKeepsItsSlotsUntilItsLeaseExpiresAndThenLosesThem() throws Exception {
    // While a's lease lasts, b gets nothing, although a does not renew (SIGSTOP: its session
    // stays open).
    assertThat(settle(a, "a", TTL).tokens()).hasSize(RelayStore.SLOTS);
    assertThat(settle(b, "b", TTL).tokens()).isEmpty();

    // a's last renewal before it freezes sets a short lease; once that passes, b takes over.
    Duration shortLease = Duration.ofMillis(300);
    Leases frozen = a.renewLeases("a", shortLease);
    assertThat(frozen.tokens()).hasSize(RelayStore.SLOTS);
    await()
        .atMost(shortLease.multipliedBy(20))
        .pollInterval(shortLease.dividedBy(3))
        .until(() -> settle(b, "b", TTL).tokens().size() == RelayStore.SLOTS);

    // a resumes: its completions under the old tokens touch nothing, and it learns it holds
    // nothing.
    var completion =
        a.complete(
            "a",
            frozen.tokens().values(),
            List.of(java.util.UUID.randomUUID()),
            List.of(),
            List.of());
    assertThat(completion.total()).isZero();
    assertThat(a.renewLeases("a", shortLease).tokens()).isEmpty();
  }

  @Test
  void aMemberThatLeavesGivesItsSlotsBackAtOnce() {
    settle(a, "a", TTL);
    settle(b, "b", TTL);
    a.leave("a");
    Leases all = settle(b, "b", TTL);
    assertThat(all.liveMembers()).isEqualTo(1);
    assertThat(all.tokens()).hasSize(RelayStore.SLOTS);
  }

  /**
   * A renewal (once per poll interval on every instance, idle or not) commits without waiting for
   * the WAL fsync: 200 renewals, against 200 autocommit updates of a member row by another session
   * (the control, one fsync per commit). The joining rebalance and the leave stay durable: a few
   * fsyncs. The anchor session keeps the server's setting after the renewals.
   */
  @Test
  void renewalsDoNotWaitForTheWalFlush() throws Exception {
    int count = 200;
    WalSyncs member = new WalSyncs();
    String serverSetting = member.setting("synchronous_commit");
    PostgresOutboxRepository c = new PostgresOutboxRepository(member.dataSource(), table);
    List<String> settingAfter = new ArrayList<>();
    long renewalSyncs =
        member.during(
            () -> {
              settle(c, "c", TTL);
              for (int i = 0; i < count; i++) {
                c.renewLeases("c", TTL);
              }
              settingAfter.add(member.setting("synchronous_commit"));
              c.leave("c");
            });
    settle(a, "a", TTL);
    WalSyncs application = new WalSyncs();
    long controlSyncs =
        application.during(
            () ->
                application.updateEachOnItsOwn(
                    "UPDATE " + table + "_relay SET expires_at = expires_at WHERE member = 'a'",
                    count));

    assertThat(settingAfter).containsExactly(serverSetting);
    assertThat(controlSyncs)
        .as("fsyncs of the application's updates")
        .isGreaterThanOrEqualTo(count);
    assertThat(renewalSyncs)
        .as("fsyncs of the renewals (the WAL writer's own flushes included)")
        .isLessThan(count / 2);
  }

  @Test
  void renewalReportsWhetherTheMembersSlotsHoldPendingEvents() throws Exception {
    assertThat(settle(a, "a", TTL).pending()).isFalse();
    TestPostgres.get()
        .execute(
            "INSERT INTO "
                + table
                + " (id, destination, event_key, event_type, payload) VALUES (gen_random_uuid(),"
                + " 'orders', 'k', 'OrderPlaced', '{}')");
    assertThat(a.renewLeases("a", TTL).pending()).isTrue();
  }
}
