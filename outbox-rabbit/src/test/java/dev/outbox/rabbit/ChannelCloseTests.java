package dev.outbox.rabbit;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import org.junit.jupiter.api.Test;

class ChannelCloseTests {

  private static Publish publish(String exchange, String routingKey, int bodySize) {
    return new Publish(
        new RabbitDestination(exchange, routingKey),
        "key",
        new AMQP.BasicProperties.Builder().messageId("id").build(),
        new byte[bodySize]);
  }

  private static ShutdownSignalException channelClosed(int code, String text) {
    return new ShutdownSignalException(
        false, false, new AMQImpl.Channel.Close(code, text, 60, 40), null);
  }

  @Test
  void aMissingExchangeIsPinnedOnTheMessagesToIt() {
    ChannelClose close =
        ChannelClose.of(channelClosed(404, "NOT_FOUND - no exchange 'missing' in vhost '/'"));

    assertThat(close.attributed()).isTrue();
    assertThat(close.causedBy(publish("missing", "a", 10))).isTrue();
    assertThat(close.causedBy(publish("orders", "a", 10))).isFalse();
  }

  @Test
  void accessRefusedIsPinnedOnTheExchangeOrOnTheTopic() {
    ChannelClose exchange =
        ChannelClose.of(
            channelClosed(
                403,
                "ACCESS_REFUSED - access to exchange 'secret' in vhost '/' refused for user 'u'"));
    ChannelClose topic =
        ChannelClose.of(
            channelClosed(
                403,
                "ACCESS_REFUSED - write access to topic 'eu.placed' in exchange 'orders' in vhost"
                    + " '/' refused for user 'u'"));

    assertThat(exchange.causedBy(publish("secret", "x", 1))).isTrue();
    assertThat(exchange.causedBy(publish("orders", "x", 1))).isFalse();
    assertThat(topic.causedBy(publish("orders", "eu.placed", 1))).isTrue();
    assertThat(topic.causedBy(publish("orders", "us.placed", 1))).isFalse();
  }

  @Test
  void aMessageTooLargeIsPinnedOnTheMessagesAboveTheLimit() {
    ChannelClose close =
        ChannelClose.of(
            channelClosed(
                406,
                "PRECONDITION_FAILED - message size 2000 is larger than configured max size 1000"));

    assertThat(close.causedBy(publish("orders", "x", 2000))).isTrue();
    assertThat(close.causedBy(publish("orders", "x", 1000))).isFalse();
  }

  @Test
  void anUnknownChannelErrorIsPinnedOnEveryMessage() {
    ChannelClose close = ChannelClose.of(channelClosed(406, "PRECONDITION_FAILED - something"));

    assertThat(close.attributed()).isFalse();
    assertThat(close.connectionLost()).isFalse();
    assertThat(close.causedBy(publish("orders", "x", 1))).isTrue();
  }

  @Test
  void aLostConnectionIsNoMessagesFault() {
    ChannelClose close =
        ChannelClose.of(
            new ShutdownSignalException(
                true, false, new AMQImpl.Connection.Close(320, "CONNECTION_FORCED", 0, 0), null));

    assertThat(close.connectionLost()).isTrue();
    assertThat(close.attributed()).isFalse();
  }
}
