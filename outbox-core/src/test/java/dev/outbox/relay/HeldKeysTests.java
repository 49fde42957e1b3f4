package dev.outbox.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.relay.HeldKeys.Closing;
import dev.outbox.store.RelayStore.Held;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Keys held back, and the closures of destinations that refuse events, on the settable clock. */
class HeldKeysTests {

  private static final Duration LONGEST = Duration.ofSeconds(5);
  private static final Duration PROBE = Duration.ofSeconds(3);

  private final SettableClock clock = new SettableClock();
  private final HeldKeys held = new HeldKeys(clock.nanos(), PROBE);

  @Test
  void aKeyIsHeldUntilItsTimeIsUpAndTheWorkerIsToldWhen() {
    held.hold("order-1", 300);
    held.hold("order-1", 100); // a shorter hold does not cut a longer one short

    assertThat(held.current().keys()).containsExactly("order-1");
    assertThat(held.nanosUntilNextDue()).isEqualTo(Duration.ofMillis(300).toNanos());

    clock.advance(Duration.ofMillis(300));

    assertThat(held.current()).isEqualTo(Held.NONE);
    assertThat(held.nanosUntilNextDue())
        .as("forgotten by a read, it is still reported due once: its slot is to be read again")
        .isZero();
    assertThat(held.nanosUntilNextDue()).isEqualTo(-1);
  }

  /**
   * A worker that cannot read (no slot held, or its lease not known to be valid) does not forget
   * held keys by reading: a key whose time is up is reported due once, so the worker looks once,
   * and not every millisecond until its next read.
   */
  @Test
  void aKeyWhoseTimeIsUpIsReportedDueOnceEvenWhenNoReadForgetsIt() {
    held.hold("order-1", 100);
    held.hold("order-2", 500);
    clock.advance(Duration.ofMillis(200));

    assertThat(held.nanosUntilNextDue()).isZero();
    assertThat(held.nanosUntilNextDue()).isEqualTo(Duration.ofMillis(300).toNanos());
    assertThat(held.current().keys()).containsExactly("order-2");

    clock.advance(Duration.ofMillis(300));

    assertThat(held.nanosUntilNextDue()).isZero();
    assertThat(held.nanosUntilNextDue()).isEqualTo(-1);
  }

  /**
   * A closed destination's unkeyed events have no key to hold: the destination itself is left out
   * of the reads while its closure lasts, and the worker is told when it ends, so that it reads
   * them again (the probe) even when no key is held.
   */
  @Test
  void aClosedDestinationIsLeftOutUntilItsClosureEndsAndTheWorkerIsToldWhen() {
    held.close("shut", LONGEST);

    assertThat(held.current()).isEqualTo(new Held(Set.of(), Set.of("shut")));
    assertThat(held.nanosUntilNextDue()).isEqualTo(Duration.ofSeconds(1).toNanos());

    clock.advance(Duration.ofSeconds(1));

    assertThat(held.current()).isEqualTo(Held.NONE);
    assertThat(held.nanosUntilNextDue())
        .as("its end is reported once, also to a worker that did not wait for it")
        .isZero();
    assertThat(held.nanosUntilNextDue()).isEqualTo(-1);
    assertThat(held.anyClosed()).as("its probe may be under way").isTrue();
  }

  /**
   * 1 s the first time; while a closure lasts, what is left of it and no new look-up of keys; after
   * each probe that fails again, twice as long, up to the longest pause after a failure.
   */
  @Test
  void aClosureDoublesAfterEachProbeThatFailsAgainUpToTheLongestPause() {
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(1), true));

    clock.advance(Duration.ofMillis(400));
    assertThat(held.close("shut", LONGEST))
        .as("refused again while closed: held for the rest of the closure")
        .isEqualTo(new Closing(Duration.ofMillis(600), false));

    clock.advance(Duration.ofMillis(600)); // it ended; the probe read its events: refused again
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(2), true));

    clock.advance(Duration.ofSeconds(2));
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(4), true));

    clock.advance(Duration.ofSeconds(4));
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(5), true));

    clock.advance(Duration.ofSeconds(5));
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(5), true));
  }

  @Test
  void anEventThatGoesThroughOpensTheDestinationAndTheNextClosureStartsAgainAtOneSecond() {
    held.close("shut", LONGEST);
    clock.advance(Duration.ofSeconds(1));
    assertThat(held.close("shut", LONGEST).hold()).isEqualTo(Duration.ofSeconds(2));
    clock.advance(Duration.ofSeconds(2)); // it ended: the probe's batch starts
    long probeStarted = clock.nanoTime();
    clock.advance(Duration.ofMillis(20));

    held.opened("shut", probeStarted);

    assertThat(held.anyClosed()).isFalse();
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(1), true));
  }

  @Test
  void aLongestPauseBelowOneSecondBoundsTheFirstClosure() {
    assertThat(held.close("shut", Duration.ofMillis(250)))
        .isEqualTo(new Closing(Duration.ofMillis(250), true));
  }

  /**
   * A closure counts until a probe's longest time (the publish timeout) after its end, while its
   * events are read and tried again; one that ended longer ago without a new one is forgotten:
   * nothing was left to try.
   */
  @Test
  void aClosureIsForgottenWhenItsProbeFoundNothingToTry() {
    held.close("shut", LONGEST);

    clock.advance(Duration.ofSeconds(1).plus(PROBE).minusMillis(1));
    assertThat(held.anyClosed()).isTrue();

    clock.advance(Duration.ofMillis(1));
    assertThat(held.anyClosed()).isFalse();
    assertThat(held.anyClosures()).isFalse();
  }

  /**
   * Another worker's batch that started before the refusal may report an event of that destination
   * gone through after the destination was closed: sent before the refusal, it does not show that
   * the destination takes events again, so the closure and its doubling stand.
   */
  @Test
  void anEventOfABatchThatStartedBeforeTheClosureDoesNotOpenIt() {
    long otherWorkersBatchStarted = clock.nanoTime();
    clock.advance(Duration.ofMillis(10));
    held.close("shut", LONGEST);
    clock.advance(Duration.ofMillis(10));

    held.opened("shut", otherWorkersBatchStarted);

    assertThat(held.current().destinations()).containsExactly("shut");
    clock.advance(Duration.ofSeconds(1));
    assertThat(held.close("shut", LONGEST))
        .as("its probe failed again: twice as long, not a new first closure")
        .isEqualTo(new Closing(Duration.ofSeconds(2), true));
  }

  /**
   * A refusal long after the last closure ended (no worker sent events since, so none forgot it)
   * starts a new first closure: the doubling is only for a probe that failed again.
   */
  @Test
  void aRefusalLongAfterTheLastClosureEndedStartsAgainAtOneSecond() {
    held.close("shut", LONGEST);
    clock.advance(Duration.ofSeconds(1).plus(PROBE).minusMillis(1));
    assertThat(held.close("shut", LONGEST))
        .as("within a probe's time of its end: the probe failed again")
        .isEqualTo(new Closing(Duration.ofSeconds(2), true));

    clock.advance(Duration.ofSeconds(2).plus(PROBE));

    assertThat(held.anyClosures()).as("not forgotten: no batch asked").isTrue();
    assertThat(held.close("shut", LONGEST)).isEqualTo(new Closing(Duration.ofSeconds(1), true));
  }
}
