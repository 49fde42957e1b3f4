package dev.outbox.rabbit;

import com.rabbitmq.client.Channel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.AmqpConnectException;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.connection.CorrelationData;
import org.springframework.amqp.rabbit.connection.PublisherCallbackChannel;
import org.springframework.amqp.rabbit.connection.RabbitUtils;
import org.springframework.amqp.rabbit.core.RabbitTemplate;

/**
 * One channel, kept open, on which all of the transport's messages are published in call order.
 *
 * <p>A channel with unconfirmed messages is not handed back to Spring AMQP's channel cache until
 * they are confirmed, so publishing each message through {@link RabbitTemplate#send} would open a
 * new channel whenever confirms lag, and messages sent one after the other could travel on
 * different channels. Holding one channel keeps publishing cheap and ordered. When the channel or
 * its connection closes, its unconfirmed messages are nacked by Spring AMQP and the next publish
 * opens a new channel (and, if needed, a new connection). While the broker cannot be reached, one
 * send per second tries to connect and the others fail at once, so a batch does not wait for one
 * connection timeout per message.
 */
final class PublishingChannel implements AutoCloseable {

  /**
   * After a failed connection attempt, sends fail at once for this long instead of each waiting for
   * its own attempt (which can take the whole connection timeout).
   */
  private static final long RECONNECT_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final ConnectionFactory connectionFactory;
  private final RabbitTemplate template;
  private final ReentrantLock lock = new ReentrantLock();
  private @Nullable Channel channel;
  private boolean closed;
  private @Nullable RuntimeException lastConnectFailure;
  private long lastConnectFailureNanos;

  PublishingChannel(ConnectionFactory connectionFactory, RabbitTemplate template) {
    this.connectionFactory = connectionFactory;
    this.template = template;
  }

  /**
   * Publishes {@code message} as mandatory with {@code correlation}; returns the AMQP channel it
   * was written to, whose close reason explains a later nack.
   *
   * @throws org.springframework.amqp.AmqpException if the broker cannot be reached
   */
  Channel publish(
      String exchange, String routingKey, Message message, CorrelationData correlation) {
    lock.lock();
    try {
      Channel current = open();
      template.doSend(current, exchange, routingKey, message, true, correlation);
      return physical(current);
    } finally {
      lock.unlock();
    }
  }

  private Channel open() {
    if (closed) {
      throw new IllegalStateException("The RabbitMQ outbox transport is closed");
    }
    Channel current = channel;
    if (current != null && current.isOpen()) {
      return current;
    }
    channel = null;
    RabbitUtils.closeChannel(current);
    RuntimeException recent = lastConnectFailure;
    if (recent != null && System.nanoTime() - lastConnectFailureNanos < RECONNECT_PAUSE_NANOS) {
      throw new AmqpConnectException(
          "RabbitMQ could not be reached moments ago: " + recent.getMessage(), recent);
    }
    try {
      current = connectionFactory.createConnection().createChannel(false);
    } catch (RuntimeException ex) {
      lastConnectFailure = ex;
      lastConnectFailureNanos = System.nanoTime();
      throw ex;
    }
    lastConnectFailure = null;
    template.addListener(current);
    channel = current;
    return current;
  }

  /** The AMQP channel under Spring's cached-channel proxy and confirm wrapper. */
  private static Channel physical(Channel channel) {
    Channel current = channel;
    if (current instanceof ChannelProxy proxy) {
      current = proxy.getTargetChannel();
    }
    if (current instanceof PublisherCallbackChannel callbackChannel) {
      current = callbackChannel.getDelegate();
    }
    return current;
  }

  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      RabbitUtils.closeChannel(channel);
      channel = null;
    } finally {
      lock.unlock();
    }
  }
}
