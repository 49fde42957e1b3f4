package dev.outbox.relay;

import dev.outbox.transport.Failures;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One health verdict from all the relay's threads: the lease keeper, every worker and the broker
 * (see {@link #BROKER}) report their state, and the relay is healthy only while each of them is. A
 * state change is logged once (a failure as WARN, the recovery as INFO), not once per cycle.
 */
final class RelayHealth {

  private static final Logger log = LoggerFactory.getLogger(RelayHealth.class);

  /**
   * The broker as the whole relay sees it: unavailable when a batch ends with the broker
   * unreachable (or degraded), available again only when a batch publishes or no event is waiting
   * in this instance's slots. Kept apart from the workers' own state, so a worker that next finds
   * nothing to do in other slots does not make an outage look over.
   */
  static final String BROKER = "broker";

  private final String relay;
  private final Clock clock;
  private final RelayListener listener;
  private final Map<String, State> states = new TreeMap<>();
  private @Nullable Instant lastSuccess;

  RelayHealth(String relay, Clock clock, RelayListener listener) {
    this.relay = relay;
    this.clock = clock;
    this.listener = listener;
  }

  synchronized void register(String component) {
    states.put(component, State.OK);
  }

  synchronized void forget(String component) {
    states.remove(component);
  }

  synchronized void ok(String component) {
    lastSuccess = clock.instant();
    State previous = states.put(component, State.OK);
    if (previous != null && previous.failure != null) {
      log.info(
          "Outbox relay '{}' {} recovered after {} failure(s)",
          relay,
          component,
          previous.failures);
    }
  }

  /**
   * Records a failure; logs it as WARN when the component was healthy or failed differently (by
   * exception type) before, else at DEBUG.
   */
  void failed(String component, Throwable cause) {
    try {
      listener.cycleFailed(cause);
    } catch (RuntimeException ex) {
      log.warn("A relay listener failed; ignoring it", ex);
    }
    record(component, cause);
  }

  private synchronized void record(String component, Throwable cause) {
    String failure = Failures.describe(cause);
    String kind = Failures.unwrap(cause).getClass().getName();
    State previous = states.getOrDefault(component, State.OK);
    State next = new State(failure, kind, previous.failures + 1);
    states.put(component, next);
    if (previous.failure == null || !kind.equals(previous.kind)) {
      log.warn("Outbox relay '{}' {} failing: {}", relay, component, failure);
    } else {
      log.debug(
          "Outbox relay '{}' {} still failing ({}): {}", relay, component, next.failures, failure);
    }
  }

  synchronized void died(String component, Throwable failure) {
    states.put(
        component,
        new State("thread died: " + Failures.describe(failure), failure.getClass().getName(), 1));
    log.error("Outbox relay '{}' {} thread died", relay, component, failure);
  }

  synchronized boolean healthy() {
    return states.values().stream().allMatch(state -> state.failure == null);
  }

  /** The failures of the components that are failing, or null if none is. */
  synchronized @Nullable String failure() {
    StringBuilder out = new StringBuilder();
    states.forEach(
        (component, state) -> {
          if (state.failure != null) {
            out.append(out.isEmpty() ? "" : "; ")
                .append(component)
                .append(": ")
                .append(state.failure);
          }
        });
    return out.isEmpty() ? null : out.toString();
  }

  synchronized @Nullable Instant lastSuccess() {
    return lastSuccess;
  }

  private record State(@Nullable String failure, @Nullable String kind, int failures) {
    static final State OK = new State(null, null, 0);
  }
}
