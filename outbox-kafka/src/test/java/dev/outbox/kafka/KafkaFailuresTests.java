package dev.outbox.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.core.KafkaProducerException;

class KafkaFailuresTests {

  @Test
  void failuresThatCannotSucceedOnRetryAreNotRetryable() {
    assertThat(KafkaFailures.isRetryable(new SerializationException("bad"))).isFalse();
    assertThat(KafkaFailures.isRetryable(new RecordTooLargeException("big"))).isFalse();
    assertThat(KafkaFailures.isRetryable(new RecordBatchTooLargeException("big"))).isFalse();
    assertThat(KafkaFailures.isRetryable(new InvalidTopicException("a/b"))).isFalse();
    assertThat(KafkaFailures.isRetryable(new InvalidRecordException("no key"))).isFalse();
  }

  @Test
  void failuresOfTheRecordAreNotTheClusters() {
    assertThat(KafkaFailures.isSystemic(new SerializationException("bad"))).isFalse();
    assertThat(KafkaFailures.isSystemic(new RecordTooLargeException("big"))).isFalse();
    assertThat(KafkaFailures.isSystemic(new InvalidTopicException("a/b"))).isFalse();
    assertThat(KafkaFailures.isSystemic(new InvalidRecordException("no key"))).isFalse();
    assertThat(KafkaFailures.isCausedByRecord(new RecordTooLargeException("big"))).isTrue();
    assertThat(KafkaFailures.isCausedByRecord(new TopicAuthorizationException("t"))).isFalse();
  }

  @Test
  void credentialsPermissionsVersionsAndADegradedClusterAreTheClusters() {
    assertThat(KafkaFailures.isSystemic(new SaslAuthenticationException("who"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new AuthenticationException("who"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new TopicAuthorizationException("orders"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new ClusterAuthorizationException("idempotent"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new UnsupportedVersionException("old broker"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new NotEnoughReplicasException("isr"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new NotEnoughReplicasAfterAppendException("isr"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new TimeoutException("Expiring 3 record(s)"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new java.util.concurrent.TimeoutException("no ack")))
        .isTrue();
    assertThat(KafkaFailures.isSystemic(new DisconnectException("gone"))).isTrue();
    assertThat(KafkaFailures.isSystemic(new NetworkException("gone"))).isTrue();
    assertThat(
            KafkaFailures.isSystemic(
                new DeadLetterNotSentException("orders-dlt", new TimeoutException("t"))))
        .isTrue();
  }

  @Test
  void aTopicMissingFromTheMetadataIsRetryableAndForTheProducerToJudge() {
    TopicNotAvailableException missing =
        new TopicNotAvailableException("orders", "Topic orders not present in metadata");
    assertThat(KafkaFailures.isSystemic(missing)).isFalse();
    assertThat(KafkaFailures.isRetryable(missing)).isTrue();
  }

  @Test
  void timeoutsDisconnectsAndUnknownTopicsAreRetryable() {
    assertThat(KafkaFailures.isRetryable(new TimeoutException("no metadata"))).isTrue();
    assertThat(KafkaFailures.isRetryable(new UnknownTopicOrPartitionException("x"))).isTrue();
    assertThat(KafkaFailures.isRetryable(new DisconnectException("gone"))).isTrue();
    assertThat(KafkaFailures.isRetryable(new NetworkException("gone"))).isTrue();
    assertThat(KafkaFailures.isRetryable(new NotEnoughReplicasException("isr"))).isTrue();
  }

  @Test
  void unrecognisedFailuresAreRetryable() {
    assertThat(KafkaFailures.isRetryable(new IllegalStateException("producer closed"))).isTrue();
    assertThat(
            KafkaFailures.isRetryable(
                new org.apache.kafka.common.KafkaException("something unexpected")))
        .isTrue();
  }

  @Test
  void looksThroughSpringAndFutureWrappers() {
    Throwable wrapped =
        new ExecutionException(
            new KafkaProducerException(
                new ProducerRecord<>("orders", "v"),
                "Failed to send",
                new RecordTooLargeException("big")));
    Throwable sync = new CompletionException(new KafkaException("Send failed", wrapped));

    assertThat(KafkaFailures.isRetryable(wrapped)).isFalse();
    assertThat(KafkaFailures.isRetryable(sync)).isFalse();
    assertThat(KafkaFailures.unwrap(sync)).isInstanceOf(RecordTooLargeException.class);
    assertThat(KafkaFailures.isTooLarge(sync)).isTrue();
  }

  @Test
  void recognisesTooLargeErrorsByClassName() {
    assertThat(KafkaFailures.isTooLarge(RecordTooLargeException.class.getName())).isTrue();
    assertThat(KafkaFailures.isTooLarge(RecordBatchTooLargeException.class.getName())).isTrue();
    assertThat(KafkaFailures.isTooLarge(TimeoutException.class.getName())).isFalse();
  }
}
