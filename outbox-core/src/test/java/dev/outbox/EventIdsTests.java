package dev.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventIdsTests {

  @Test
  void idsAreVersion7WithTheCurrentTimeAndIncrease() {
    long before = System.currentTimeMillis();
    List<UUID> ids = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      ids.add(EventIds.next());
    }
    long after = System.currentTimeMillis();
    assertThat(new HashSet<>(ids)).hasSize(ids.size());
    for (UUID id : ids) {
      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2);
    }
    assertThat(EventIds.timestampMillis(ids.get(0))).isBetween(before, after + 50);
    assertThat(ids)
        .isSortedAccordingTo(
            (a, b) -> Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits()));
  }
}
