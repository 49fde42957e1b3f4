package dev.outbox.inbox.spring;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** A Spring Kafka listener with an {@code Acknowledgment} parameter: manual ack modes only. */
final class KafkaAcknowledgement extends ListenerAcknowledgement {

  private final int index;

  KafkaAcknowledgement(int index) {
    this.index = index;
  }

  static boolean accepts(Class<?> type) {
    return type == org.springframework.kafka.support.Acknowledgment.class;
  }

  @Override
  boolean manual() {
    return true;
  }

  @Override
  void defer(@Nullable Object[] args, DeferredAcknowledgements deferred) {
    if (args[index] instanceof org.springframework.kafka.support.Acknowledgment acknowledgment) {
      args[index] = new Deferring(acknowledgment, deferred);
    }
  }

  @Override
  void acknowledgeDuplicate(@Nullable Object[] args) {
    if (args[index] instanceof org.springframework.kafka.support.Acknowledgment acknowledgment) {
      acknowledgment.acknowledge();
    }
  }

  /** The listener's {@code Acknowledgment}, deferred. */
  private record Deferring(
      org.springframework.kafka.support.Acknowledgment delegate, DeferredAcknowledgements deferred)
      implements org.springframework.kafka.support.Acknowledgment {

    @Override
    public void acknowledge() {
      deferred.acknowledge("acknowledge()", delegate::acknowledge);
    }

    @Override
    public void nack(Duration sleep) {
      deferred.reject("nack(" + sleep + ")", () -> delegate.nack(sleep));
    }

    @Override
    public void acknowledge(int index) {
      deferred.acknowledge("acknowledge(" + index + ")", () -> delegate.acknowledge(index));
    }

    @Override
    public void nack(int index, Duration sleep) {
      deferred.reject("nack(" + index + ", " + sleep + ")", () -> delegate.nack(index, sleep));
    }

    @Override
    public boolean isOutOfOrderCommit() {
      return delegate.isOutOfOrderCommit();
    }
  }
}
