package dev.outbox.relay;

import static dev.outbox.relay.InvalidRelaySettingException.require;

import dev.outbox.concurrent.NamedThreads;
import dev.outbox.concurrent.Signal;
import dev.outbox.store.OutboxRepository;
import dev.outbox.store.Slots;
import dev.outbox.transport.OutboxTransport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The relay: publishes committed events through the transport and records the outcome.
 *
 * <p>Keys hash into slots; the relay instances of a service share the slots through leases in
 * PostgreSQL ({@link dev.outbox.store.RelayStore}). In each instance one thread keeps the leases
 * (renewing them once per poll interval, which is also the idle poll) and a few workers publish
 * batches from the instance's slots. No database transaction stays open while the broker is
 * awaited. Workers sleep until {@link #wakeUp()} is called (after a transaction that wrote events
 * commits, or another instance signals a backlog) or the lease keeper finds events.
 *
 * <p>Build one with {@link #builder()}. {@link #start()} and {@link #stop(Duration)} may alternate;
 * {@link #close()} is final.
 */
public final class OutboxRelay implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(OutboxRelay.class);

  private enum State {
    NEW,
    RUNNING,
    STOPPED,
    CLOSED
  }

  private final Builder settings;
  private final RelayTiming timing;
  private final NamedThreads threads;
  private final RelayHealth health;
  private final HeldKeys heldKeys;
  private final SlotScheduler scheduler;

  private volatile State state = State.NEW;
  private volatile @Nullable Run run;

  private OutboxRelay(Builder builder, RelayTiming timing) {
    this.settings = builder;
    this.timing = timing;
    this.threads = new NamedThreads(builder.name);
    this.health = new RelayHealth(builder.name, builder.clock, builder.listener);
    this.heldKeys = new HeldKeys(builder.nanoTime, timing.publishTimeout());
    this.scheduler = new SlotScheduler(builder.workers, builder.nanoTime);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The timing the relay runs by, as derived and validated from its settings. */
  public RelayTiming timing() {
    return timing;
  }

  /**
   * Starts the lease keeper and the workers. Calling it while running has no effect.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public synchronized void start() {
    if (state == State.CLOSED) {
      throw new IllegalStateException("Outbox relay '" + settings.name + "' is closed");
    }
    if (state == State.RUNNING) {
      return;
    }
    String member = newMember(settings.name);
    settings.repository.bound(timing.databaseTimeout(), timing.rebalanceTimeout());
    Signal stopping = new Signal();
    List<RelayWorker> workers = new ArrayList<>(settings.workers);
    for (int i = 1; i <= settings.workers; i++) {
      BatchPublisher publisher =
          new BatchPublisher(
                  settings.repository,
                  settings.transport,
                  settings.retryPolicy,
                  timing,
                  settings.listener,
                  settings.clock,
                  settings.nanoTime,
                  heldKeys,
                  scheduler,
                  member,
                  settings.batchSize)
              .transientFailureLevel(settings.transientFailureLogLevel);
      workers.add(
          new RelayWorker(
              "worker-" + i,
              stopping,
              scheduler,
              publisher,
              heldKeys,
              health,
              timing.maxErrorBackoff(),
              settings.onBacklog));
    }
    LeaseKeeper keeper =
        new LeaseKeeper(
            settings.repository,
            member,
            timing,
            scheduler,
            health,
            () -> wake(workers, Slots.ALL),
            settings.nanoTime,
            settings.name);
    Run started = new Run(member, stopping, keeper, workers);
    health.register(LeaseKeeper.COMPONENT);
    health.register(RelayHealth.BROKER);
    workers.forEach(worker -> health.register(worker.component()));
    started.threads.add(reporting(threads.thread("leases", () -> keep(started)), "leases"));
    for (RelayWorker worker : workers) {
      started.threads.add(
          reporting(threads.thread(worker.component(), worker), worker.component()));
    }
    run = started;
    state = State.RUNNING;
    started.threads.forEach(Thread::start);
    log.info(
        "Outbox relay '{}' started as member {} ({} worker(s), batch size {}, poll interval {} ms,"
            + " lease timeout {} ms, publish timeout {} ms)",
        settings.name,
        member,
        settings.workers,
        settings.batchSize,
        timing.pollInterval().toMillis(),
        timing.leaseTimeout().toMillis(),
        timing.publishTimeout().toMillis());
  }

  /** A thread that ends with a failure turns the relay unhealthy, naming the thread. */
  private Thread reporting(Thread thread, String component) {
    thread.setUncaughtExceptionHandler((t, failure) -> health.died(component, failure));
    return thread;
  }

  private void keep(Run run) {
    try {
      while (!run.stopping.isClosed()) {
        run.keeper.tick();
        run.stopping.await(run.keeper.nextTick());
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the workers, letting each finish its batch for up to {@code timeout} (then interrupting
   * it), waits until every relay thread has ended, and releases the slots so other instances take
   * over at once. Events not completed stay in the table and are published after the next start.
   */
  public synchronized void stop(Duration timeout) {
    if (state != State.RUNNING || run == null) {
      return;
    }
    Run stopping = run;
    state = State.STOPPED;
    stopping.stopping.close();
    stopping.workers.forEach(RelayWorker::close);
    for (Thread thread : stopping.threads) {
      NamedThreads.stop(thread, timeout);
    }
    stopping.keeper.leave();
    health.forget(LeaseKeeper.COMPONENT);
    health.forget(RelayHealth.BROKER);
    stopping.workers.forEach(worker -> health.forget(worker.component()));
    run = null;
    log.info("Outbox relay '{}' stopped", settings.name);
  }

  /** Stops the relay (see {@link #stop(Duration)}) for good: it cannot be started again. */
  @Override
  public synchronized void close() {
    stop(OutboxDefaults.SHUTDOWN_TIMEOUT);
    state = State.CLOSED;
  }

  /** Whether the relay runs: false from the moment {@link #stop} begins. */
  public boolean isRunning() {
    return state == State.RUNNING;
  }

  /** Whether the lease keeper and every worker completed their last step without failing. */
  public boolean isHealthy() {
    return health.healthy();
  }

  /** What is failing, per relay thread, or null while healthy. */
  public @Nullable String lastFailure() {
    return health.failure();
  }

  /** When a relay thread last completed a step without failing, or null if none has. */
  public @Nullable Instant lastSuccess() {
    return health.lastSuccess();
  }

  /**
   * The id this relay registered under while it runs, as the slot table's {@code owner} column
   * shows it: the relay's name, the host (where the host names itself: {@code HOSTNAME}, {@code
   * COMPUTERNAME} or {@code /etc/hostname}) and a UUID. Null when not running.
   */
  public @Nullable String member() {
    Run current = run;
    return current == null ? null : current.member;
  }

  /** How many of the {@link dev.outbox.store.RelayStore#SLOTS} slots this instance holds now. */
  public int ownedSlots() {
    return scheduler.ownedCount();
  }

  /** Asks the workers to look for events in every slot now. Cheap; never blocks; coalesces. */
  public void wakeUp() {
    wakeUp(Slots.ALL);
  }

  /**
   * Asks the workers to look for events in {@code slots} (a bit set, see {@link Slots}): after a
   * commit, the slots of the events it wrote. Cheap; never blocks; coalesces.
   */
  public void wakeUp(long slots) {
    Run current = run;
    if (current != null) {
      wake(current.workers, slots);
    }
  }

  /**
   * The slots of {@code slots} (a bit set, see {@link Slots}) this instance does not hold, as of
   * its last lease renewal: other instances' relays publish the events written to them, and the
   * writer should wake those (see {@code PostgresWakeups}). Cheap; never blocks.
   */
  public long slotsHeldElsewhere(long slots) {
    return scheduler.notOwned(slots);
  }

  private void wake(List<RelayWorker> workers, long slots) {
    scheduler.markDirty(slots);
    workers.forEach(RelayWorker::wakeUp);
  }

  /**
   * A member id of its own for each start: the relay's name, the host it runs on (the pod's name in
   * Kubernetes) where the host names itself, and a random UUID, so the owners in the slot table
   * name the instances.
   */
  private static String newMember(String name) {
    String host = hostName();
    if (host == null) {
      return name + "-" + UUID.randomUUID();
    }
    String safe = host.replaceAll("[^A-Za-z0-9._-]", "_");
    return name + "-" + safe.substring(0, Math.min(safe.length(), 63)) + "-" + UUID.randomUUID();
  }

  /**
   * The host's name from {@code HOSTNAME} or {@code COMPUTERNAME}, else from {@code /etc/hostname};
   * null if none names it. Not from a name lookup, which may wait on DNS.
   */
  private static @Nullable String hostName() {
    for (String variable : List.of("HOSTNAME", "COMPUTERNAME")) {
      String value = System.getenv(variable);
      if (value != null && !value.isBlank()) {
        return value.strip();
      }
    }
    try {
      Path file = Path.of("/etc/hostname");
      if (Files.isReadable(file)) {
        String value = Files.readString(file).strip();
        return value.isEmpty() ? null : value.lines().findFirst().orElse(null);
      }
    } catch (IOException | RuntimeException ex) {
      // no name then
    }
    return null;
  }

  /** One start-to-stop run of the relay's threads. */
  private static final class Run {
    final String member;
    final Signal stopping;
    final LeaseKeeper keeper;
    final List<RelayWorker> workers;
    final List<Thread> threads = new ArrayList<>();

    Run(String member, Signal stopping, LeaseKeeper keeper, List<RelayWorker> workers) {
      this.member = member;
      this.stopping = stopping;
      this.keeper = keeper;
      this.workers = List.copyOf(workers);
    }
  }

  /** Builds an {@link OutboxRelay}; {@link #build()} validates the settings. */
  public static final class Builder {
    private @Nullable OutboxRepository repository;
    private @Nullable OutboxTransport transport;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private int batchSize = OutboxDefaults.BATCH_SIZE;
    private int workers = OutboxDefaults.WORKERS;
    private Duration pollInterval = OutboxDefaults.POLL_INTERVAL;
    private Duration publishTimeout = OutboxDefaults.PUBLISH_TIMEOUT;
    private @Nullable Duration leaseTimeout;
    private Duration maxErrorBackoff = OutboxDefaults.MAX_ERROR_BACKOFF;
    private Level transientFailureLogLevel = OutboxDefaults.TRANSIENT_FAILURE_LOG_LEVEL;
    private RelayListener listener = RelayListener.none();
    private Clock clock = Clock.systemUTC();
    private LongSupplier nanoTime = System::nanoTime;
    private String name = "outbox-relay";
    private Runnable onBacklog = () -> {};

    private Builder() {}

    public Builder repository(OutboxRepository repository) {
      this.repository = repository;
      return this;
    }

    public Builder transport(OutboxTransport transport) {
      this.transport = transport;
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = retryPolicy;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Threads that publish concurrently, each from its own share of the instance's slots: while one
     * waits for the broker, another reads or completes in the database.
     */
    public Builder workers(int workers) {
      this.workers = workers;
      return this;
    }

    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
      return this;
    }

    public Builder publishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
      return this;
    }

    /**
     * How long a frozen relay keeps its slots before other instances take them over. Null (the
     * default) means {@link OutboxDefaults#LEASE_TIMEOUT}, or three poll intervals if that is
     * longer.
     */
    public Builder leaseTimeout(@Nullable Duration leaseTimeout) {
      this.leaseTimeout = leaseTimeout;
      return this;
    }

    /**
     * The level of the one line per batch that says how many events failed and will be retried
     * ({@link OutboxDefaults#TRANSIENT_FAILURE_LOG_LEVEL} by default); final failures (dead
     * letters) are always logged at ERROR.
     */
    public Builder transientFailureLogLevel(Level level) {
      this.transientFailureLogLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /**
     * The longest pause of a worker after a failure of the database, the broker or the relay
     * itself; the pause starts at 100 ms and doubles up to this ({@link
     * OutboxDefaults#MAX_ERROR_BACKOFF} by default). It bounds how long the relay takes to resume
     * once the failure is over.
     */
    public Builder maxErrorBackoff(Duration maxErrorBackoff) {
      this.maxErrorBackoff = maxErrorBackoff;
      return this;
    }

    public Builder listener(RelayListener listener) {
      this.listener = listener;
      return this;
    }

    /** The wall clock: event ages and retry limits. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** The monotonic clock: deadlines, lease validity, hold-backs. For tests. */
    Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = nanoTime;
      return this;
    }

    /**
     * Run after each full batch, when more events are likely waiting: wakes the relays of other
     * instances to share the backlog. Must be quick and must not throw.
     */
    public Builder onBacklog(Runnable onBacklog) {
      this.onBacklog = onBacklog;
      return this;
    }

    /** Names the relay's threads ({@code <name>-leases}, {@code <name>-worker-1}, ...). */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /**
     * Validates the settings (with the transport's blocking limits, see {@link RelayTiming}) and
     * builds the relay, not yet started.
     *
     * @throws InvalidRelaySettingException naming the first invalid setting
     */
    public OutboxRelay build() {
      require(repository != null, "repository", "is required");
      require(transport != null, "transport", "is required");
      require(
          batchSize >= 1 && batchSize <= 10_000, "batchSize", "must be 1..10000, was " + batchSize);
      require(workers >= 1 && workers <= 16, "workers", "must be 1..16, was " + workers);
      Objects.requireNonNull(retryPolicy, "retryPolicy");
      Objects.requireNonNull(listener, "listener");
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(nanoTime, "nanoTime");
      Objects.requireNonNull(onBacklog, "onBacklog");
      require(name != null && !name.isBlank(), "name", "must not be blank");
      require(pollInterval != null, "pollInterval", "is required");
      Duration lease =
          leaseTimeout != null ? leaseTimeout : RelayTiming.defaultLeaseTimeout(pollInterval);
      RelayTiming timing =
          new RelayTiming(
              pollInterval, publishTimeout, lease, transport.maxBlock(), maxErrorBackoff);
      return new OutboxRelay(copy(), timing);
    }

    /** A snapshot, so changing this builder later does not change a relay built from it. */
    private Builder copy() {
      Builder copy = new Builder();
      copy.repository = repository;
      copy.transport = transport;
      copy.retryPolicy = retryPolicy;
      copy.batchSize = batchSize;
      copy.workers = workers;
      copy.pollInterval = pollInterval;
      copy.publishTimeout = publishTimeout;
      copy.leaseTimeout = leaseTimeout;
      copy.maxErrorBackoff = maxErrorBackoff;
      copy.transientFailureLogLevel = transientFailureLogLevel;
      copy.listener = listener;
      copy.clock = clock;
      copy.nanoTime = nanoTime;
      copy.name = name;
      copy.onBacklog = onBacklog;
      return copy;
    }
  }
}
