package dev.outbox.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.OutboxEvent;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Every method of {@link OutboxTransport} is handed to the wrapped transport with its arguments,
 * and its result comes back unchanged: default methods included, and methods added to the interface
 * later, since the test walks the interface rather than a list.
 */
class ForwardingOutboxTransportTests {

  private static final OutboxEvent EVENT = OutboxTransportContractTests.event("orders", "k", "{}");
  private static final DeadLetter DEAD_LETTER = new DeadLetter("refused", "X", 3);
  private static final Throwable FAILURE = new IllegalStateException("down");
  private static final CompletableFuture<?> SENT =
      CompletableFuture.completedFuture("sent by the wrapped transport");

  /** What the wrapped transport answers: values no default method returns. */
  private static Object answer(Class<?> type) {
    if (type == CompletableFuture.class) {
      return SENT;
    }
    if (type == boolean.class) {
      return true;
    }
    if (type == Duration.class) {
      return Duration.ofSeconds(42);
    }
    if (type == int.class) {
      return 4242;
    }
    if (type == String.class) {
      return "orders-wrapped-dlq";
    }
    if (type == void.class) {
      return null;
    }
    throw new AssertionError("no answer for " + type + ": add one to this test");
  }

  private static Object argument(Class<?> type) {
    if (type == OutboxEvent.class) {
      return EVENT;
    }
    if (type == DeadLetter.class) {
      return DEAD_LETTER;
    }
    if (type == Throwable.class) {
      return FAILURE;
    }
    throw new AssertionError("no argument for " + type + ": add one to this test");
  }

  @Test
  void everyMethodIsHandedToTheWrappedTransportAndItsResultReturned() throws Exception {
    List<String> received = new ArrayList<>();
    OutboxTransport wrapped =
        (OutboxTransport)
            Proxy.newProxyInstance(
                OutboxTransport.class.getClassLoader(),
                new Class<?>[] {OutboxTransport.class},
                (proxy, method, args) -> {
                  received.add(
                      method.getName() + Arrays.toString(args == null ? new Object[0] : args));
                  return answer(method.getReturnType());
                });
    ForwardingOutboxTransport forwarding = new ForwardingOutboxTransport(wrapped) {};

    for (Method method : OutboxTransport.class.getMethods()) {
      if (Modifier.isStatic(method.getModifiers())) {
        continue;
      }
      Object[] args = Arrays.stream(method.getParameterTypes()).map(t -> argument(t)).toArray();
      received.clear();

      Object result = method.invoke(forwarding, args);

      assertThat(received)
          .as(method.getName())
          .containsExactly(method.getName() + Arrays.toString(args));
      assertThat(result).as(method.getName()).isEqualTo(answer(method.getReturnType()));
    }
    assertThat(forwarding.delegate()).isSameAs(wrapped);
  }
}
