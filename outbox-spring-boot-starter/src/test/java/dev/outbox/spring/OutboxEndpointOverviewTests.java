package dev.outbox.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.outbox.store.OutboxRepository;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.Access;

/** What the endpoint reports for the operator page when the store or the access level vary. */
class OutboxEndpointOverviewTests {

  /** A store implementing only what every store must: the overview methods keep their defaults. */
  private static OutboxRepository minimalStore() {
    InvocationHandler handler =
        (proxy, method, args) ->
            switch (method.getName()) {
              case "stats" -> new OutboxRepository.Stats(2, 1, Optional.empty());
              case "findDead" -> List.of();
              default -> {
                if (method.isDefault()) {
                  yield InvocationHandler.invokeDefault(proxy, method, args);
                }
                throw new UnsupportedOperationException(method.getName());
              }
            };
    return (OutboxRepository)
        Proxy.newProxyInstance(
            OutboxRepository.class.getClassLoader(),
            new Class<?>[] {OutboxRepository.class},
            handler);
  }

  @Test
  void storeWithoutAnOverviewGetsNullBacklogAndGroupsAndTheRestOfTheSummary() {
    Map<String, Object> summary = new OutboxEndpoint(minimalStore(), null).summary();

    assertThat(summary)
        .contains(entry("pending", 2L), entry("dead", 1L), entry("writable", false))
        .containsEntry("backlog", null)
        .containsEntry("deadGroups", null);
  }

  @Test
  void writableOnlyWhenTheAccessResolverSaysUnrestricted() {
    assertThat(new OutboxEndpoint(minimalStore(), null, (id, d) -> Access.UNRESTRICTED).writable())
        .isTrue();
    assertThat(new OutboxEndpoint(minimalStore(), null, (id, d) -> Access.READ_ONLY).writable())
        .isFalse();
    assertThat(new OutboxEndpoint(minimalStore(), null, null).writable()).isFalse();
  }
}
