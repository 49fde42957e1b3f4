package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.AmqpAuthenticationException;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.AmqpIOException;
import org.springframework.amqp.support.converter.MessageConversionException;

class RabbitFailureClassifierTests {

  private static final RabbitDestination ORDERS = new RabbitDestination("orders", "OrderPlaced");

  private static ShutdownSignalException channelClosed(int code, String text) {
    return new ShutdownSignalException(
        false, false, new AMQImpl.Channel.Close(code, text, 60, 40), null);
  }

  @Test
  void returnsAreRetryableOnlyWhenTheTransportRetriesUnroutableMessages() {
    RabbitPublishException returned = RabbitPublishException.returned(ORDERS, 312, "NO_ROUTE");
    assertThat(RabbitFailureClassifier.isRetryable(returned, false)).isFalse();
    assertThat(RabbitFailureClassifier.isRetryable(returned, true)).isTrue();
    assertThat(returned.isRetryable()).as("the default").isFalse();
  }

  @Test
  void nacksAreRetryable() {
    assertThat(
            RabbitFailureClassifier.isRetryable(RabbitPublishException.nacked(ORDERS, null), false))
        .isTrue();
    assertThat(
            RabbitFailureClassifier.isRetryable(
                RabbitPublishException.nacked(
                    ORDERS,
                    "connection error; protocol method: #method<connection.close>(reply-code=320,"
                        + " reply-text=CONNECTION_FORCED)"),
                false))
        .isTrue();
  }

  @Test
  void missingExchangeIsRetryable() {
    assertThat(
            RabbitFailureClassifier.isRetryable(
                RabbitPublishException.nacked(
                    ORDERS, channelClosed(404, "NOT_FOUND - no exchange").getMessage()),
                false))
        .isTrue();
  }

  @Test
  void accessRefusedAndMessageTooLargeAreNotRetryable() {
    assertThat(
            RabbitFailureClassifier.isRetryable(
                RabbitPublishException.nacked(
                    ORDERS, channelClosed(403, "ACCESS_REFUSED").getMessage()),
                false))
        .isFalse();
    assertThat(
            RabbitFailureClassifier.isRetryable(
                RabbitPublishException.nacked(
                    ORDERS, channelClosed(406, "PRECONDITION_FAILED - message size").getMessage()),
                false))
        .isFalse();
    assertThat(
            RabbitFailureClassifier.isRetryable(
                new AmqpIOException(new IOException(channelClosed(403, "ACCESS_REFUSED"))), false))
        .isFalse();
  }

  @Test
  void wrappedFailuresAreUnwrapped() {
    assertThat(
            RabbitFailureClassifier.isRetryable(
                new CompletionException(
                    RabbitPublishException.invalidDestination(":", "names nothing")),
                false))
        .isFalse();
  }

  @Test
  void conversionErrorsAreNotRetryable() {
    assertThat(RabbitFailureClassifier.isRetryable(new MessageConversionException("bad"), false))
        .isFalse();
  }

  @Test
  void connectionFailuresAndTimeoutsAreRetryable() {
    assertThat(
            RabbitFailureClassifier.isRetryable(
                new AmqpConnectException(new java.net.ConnectException("refused")), false))
        .isTrue();
    assertThat(RabbitFailureClassifier.isRetryable(new TimeoutException("no ack"), false)).isTrue();
    assertThat(
            RabbitFailureClassifier.isRetryable(
                new AmqpAuthenticationException(new RuntimeException("bad password")), false))
        .isTrue();
  }
}
