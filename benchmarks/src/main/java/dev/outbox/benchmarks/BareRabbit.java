package dev.outbox.benchmarks;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.outbox.rabbit.RabbitHeaders;
import dev.outbox.rabbit.RabbitOutboxOptions;
import dev.outbox.relay.OutboxDefaults;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the broker takes from a bare RabbitMQ client on the same machine: the same messages as the
 * relay sends (body, properties and CloudEvents headers of the same sizes; persistent, mandatory),
 * on as many confirm-mode channels as the transport uses by default, in batches of the relay's
 * default batch size, each batch written at once and then its confirms awaited. No database, no
 * relay: the ceiling the relay's RabbitMQ drain is read against.
 */
final class BareRabbit {

  private static final long CONFIRM_TIMEOUT_MS = 60_000;

  private BareRabbit() {}

  static Map<String, Object> publish(
      CachingConnectionFactory factory, String exchange, long count, int keys, long kafkaPid) {
    JsonMapper mapper = JsonMapper.builder().build();
    int channels = RabbitOutboxOptions.DEFAULT_CHANNELS;
    int batch = OutboxDefaults.BATCH_SIZE;
    try (Connection connection = factory.getRabbitConnectionFactory().newConnection()) {
      Channel[] open = new Channel[channels];
      for (int i = 0; i < channels; i++) {
        open[i] = connection.createChannel();
        open[i].confirmSelect();
      }
      CpuMeter meter = new CpuMeter(List.of(ProcessHandle.current().pid()), kafkaPid);
      long start = System.nanoTime();
      for (long sent = 0; sent < count; ) {
        long end = Math.min(count, sent + batch);
        for (long n = sent; n < end; n++) {
          String key = OrderEvent.key(n, keys);
          byte[] body = mapper.writeValueAsBytes(OrderEvent.of(n, keys));
          open[Math.floorMod(key.hashCode(), channels)].basicPublish(
              exchange, OrderEvent.TOPIC_TYPE, true, properties(key), body);
        }
        for (Channel channel : open) {
          channel.waitForConfirmsOrDie(CONFIRM_TIMEOUT_MS);
        }
        sent = end;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("count", count);
      out.put("seconds", TxCostCase.round(seconds));
      out.put("rate", Math.round(count / seconds));
      out.put("cpuCores", meter.cores());
      return out;
    } catch (Exception ex) {
      throw new IllegalStateException("The bare RabbitMQ publisher failed: " + ex, ex);
    }
  }

  /** The properties and headers the transport sends, with values of the same sizes. */
  private static AMQP.BasicProperties properties(String key) {
    String id = UUID.randomUUID().toString();
    Instant now = Instant.now();
    Map<String, Object> headers = new HashMap<>();
    headers.put(RabbitHeaders.SPEC_VERSION, RabbitHeaders.SPEC_VERSION_VALUE);
    headers.put(RabbitHeaders.ID, id);
    headers.put(RabbitHeaders.SOURCE, OutboxApp.APPLICATION_NAME);
    headers.put(RabbitHeaders.TYPE, OrderEvent.TOPIC_TYPE);
    headers.put(RabbitHeaders.TIME, now.toString());
    headers.put(RabbitHeaders.EVENT_VERSION, 1);
    headers.put(RabbitHeaders.SUBJECT, key);
    return new AMQP.BasicProperties.Builder()
        .messageId(id)
        .contentType("application/json")
        .type(OrderEvent.TOPIC_TYPE)
        .appId(OutboxApp.APPLICATION_NAME)
        .timestamp(Date.from(now))
        .deliveryMode(2)
        .priority(0)
        .headers(headers)
        .build();
  }
}
