package dev.outbox.relay;

import static dev.outbox.relay.InvalidRelaySettingException.require;

import java.time.Duration;
import java.util.Objects;

/**
 * Every duration the relay runs by, derived and validated in one place.
 *
 * @param pollInterval how often the relay renews its slot leases and, while idle, looks for events
 *     it was not woken for
 * @param publishTimeout how long a batch may take from its first send to the last acknowledgement;
 *     events sent at the batch's start and not acknowledged by then count as a failed attempt
 * @param leaseTimeout how long a relay keeps its slots without renewing them: the bound on how long
 *     the keys of a frozen (not killed) relay stall before another instance takes over
 * @param transportMaxBlock the longest a single send may block in the transport (Kafka's {@code
 *     max.block.ms}); zero if sends never block
 * @param maxErrorBackoff the longest pause of a worker after a failure of the database, the broker
 *     or the relay itself (the pause starts at 100 ms and doubles): the bound on how long the relay
 *     takes to resume once the failure is over
 */
public record RelayTiming(
    Duration pollInterval,
    Duration publishTimeout,
    Duration leaseTimeout,
    Duration transportMaxBlock,
    Duration maxErrorBackoff) {

  /** The fewest lease renewals that must fit in one lease timeout. */
  static final int RENEWALS_PER_LEASE = 3;

  /** Lease renewals per poll interval while slots move between instances. */
  static final int SETTLE_TICKS_PER_POLL = 10;

  /** The shortest interval between lease renewals while slots move. */
  static final Duration MIN_SETTLE_INTERVAL = Duration.ofMillis(20);

  /** The shortest {@link #databaseTimeout()}. */
  static final Duration MIN_DATABASE_TIMEOUT = Duration.ofSeconds(5);

  /** The shortest wait for dead-letter acknowledgements after a batch's own deadline passed. */
  static final Duration MIN_DEAD_LETTER_WAIT = Duration.ofSeconds(1);

  public RelayTiming {
    requirePositive("pollInterval", pollInterval);
    requirePositive("publishTimeout", publishTimeout);
    requirePositive("leaseTimeout", leaseTimeout);
    Objects.requireNonNull(transportMaxBlock, "transportMaxBlock");
    require(!transportMaxBlock.isNegative(), "transportMaxBlock", "must not be negative");
    requirePositive("maxErrorBackoff", maxErrorBackoff);
    require(
        leaseTimeout.compareTo(pollInterval.multipliedBy(RENEWALS_PER_LEASE)) >= 0,
        "leaseTimeout",
        "("
            + leaseTimeout.toMillis()
            + " ms) must be at least "
            + RENEWALS_PER_LEASE
            + " x pollInterval ("
            + pollInterval.toMillis()
            + " ms): leases are renewed once per poll interval");
    require(
        publishTimeout.compareTo(transportMaxBlock.multipliedBy(2)) >= 0,
        "publishTimeout",
        "("
            + publishTimeout.toMillis()
            + " ms) must be at least twice the transport's longest blocking send ("
            + transportMaxBlock.toMillis()
            + " ms, e.g. Kafka's max.block.ms): one blocked send would otherwise use up a whole"
            + " batch");
  }

  /** How often leases are renewed: once per poll interval. */
  public Duration renewInterval() {
    return pollInterval;
  }

  /**
   * How often leases are renewed while slots move between instances (for {@link #settleWindow()}
   * after the last change): a tenth of the poll interval, at least {@link #MIN_SETTLE_INTERVAL}. A
   * slot another instance gives up is then taken within this time, not a whole poll interval.
   */
  public Duration settleInterval() {
    Duration tenth = pollInterval.dividedBy(SETTLE_TICKS_PER_POLL);
    return tenth.compareTo(MIN_SETTLE_INTERVAL) >= 0
        ? tenth
        : pollInterval.compareTo(MIN_SETTLE_INTERVAL) < 0 ? pollInterval : MIN_SETTLE_INTERVAL;
  }

  /** How long after the last change in membership or ownership leases keep being renewed fast. */
  public Duration settleWindow() {
    return pollInterval.multipliedBy(2);
  }

  /**
   * The longest the relay waits for an answer of the database on one of its connections: the lease
   * timeout, at least {@link #MIN_DATABASE_TIMEOUT}. A connection that answers nothing for that
   * long fails as if it had broken (it is dropped), so a database that stops answering (a network
   * that drops packets, a frozen server) turns the relay unhealthy and frees its threads within
   * this time, where TCP alone would take minutes to hours. A longer wait would be of no use: the
   * slots the call worked for are another instance's once the lease has expired.
   */
  public Duration databaseTimeout() {
    return databaseTimeout(leaseTimeout);
  }

  /**
   * The lease timeout of a relay that sets none: {@link OutboxDefaults#LEASE_TIMEOUT}, or {@link
   * #RENEWALS_PER_LEASE} poll intervals if that is longer.
   */
  public static Duration defaultLeaseTimeout(Duration pollInterval) {
    return max(pollInterval.multipliedBy(RENEWALS_PER_LEASE), OutboxDefaults.LEASE_TIMEOUT);
  }

  /** The {@link #databaseTimeout()} of a relay whose lease timeout is {@code leaseTimeout}. */
  public static Duration databaseTimeout(Duration leaseTimeout) {
    return max(leaseTimeout, MIN_DATABASE_TIMEOUT);
  }

  /**
   * The longest a rebalance waits for another instance's rebalance (their lock on the slot table),
   * and the longest PostgreSQL lets a rebalance's transaction sit idle between its statements
   * before it ends that session: a third of the lease timeout (at least the poll interval). An
   * instance that stops answering in the middle of its rebalance holds the others' rebalances up
   * for this long, not until TCP gives its connection up; a rebalance that gives up waiting renews
   * again and keeps the slots the database says its instance holds.
   */
  public Duration rebalanceTimeout() {
    return leaseTimeout.dividedBy(RENEWALS_PER_LEASE);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  private static void requirePositive(String setting, Duration value) {
    require(
        value != null && !value.isNegative() && !value.isZero(),
        setting,
        "must be positive, was " + value);
  }
}
