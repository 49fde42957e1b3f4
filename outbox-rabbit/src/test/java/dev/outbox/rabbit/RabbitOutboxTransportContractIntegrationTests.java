package dev.outbox.rabbit;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.outbox.OutboxEvent;
import dev.outbox.test.TestRabbit;
import dev.outbox.transport.OutboxTransport;
import dev.outbox.transport.OutboxTransportContractTests;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The shared transport contract against the real RabbitMQ, read back with a plain AMQP client: the
 * id is the AMQP {@code message_id}, the key the CloudEvents subject.
 */
class RabbitOutboxTransportContractIntegrationTests extends OutboxTransportContractTests {

  private BrokerFixture broker;
  private RabbitOutboxTransport transport;
  private String deadLetterQueue;
  private final Map<String, String> queueOfExchange = new HashMap<>();

  @BeforeEach
  void connect() {
    broker = new BrokerFixture();
    BrokerFixture.Route deadLetters = broker.route("contract-dlx", "#");
    deadLetterQueue = deadLetters.queue();
    transport =
        new RabbitOutboxTransport(
            broker.connectionFactory(),
            RabbitOutboxOptions.defaults()
                .withSource("contract-tests")
                .withDeadLetterExchange(deadLetters.exchange()));
  }

  @AfterEach
  void disconnect() {
    broker.close();
  }

  @Override
  protected OutboxTransport transport() {
    return transport;
  }

  @Override
  protected String newDestination() {
    BrokerFixture.Route route = broker.route("contract", "#");
    queueOfExchange.put(route.exchange(), route.queue());
    return route.exchange();
  }

  @Override
  protected String failingDestination() {
    return TestRabbit.uniqueName("contract-missing");
  }

  @Override
  protected List<Received> receive(String destination, int count, Duration timeout) {
    return broker.take(queueOfExchange.get(destination), count, timeout).stream()
        .map(RabbitOutboxTransportContractIntegrationTests::toReceived)
        .toList();
  }

  @Override
  protected List<Received> receiveDeadLetters(OutboxEvent event, int count, Duration timeout) {
    return broker.take(deadLetterQueue, count, timeout).stream()
        .map(RabbitOutboxTransportContractIntegrationTests::toReceived)
        .toList();
  }

  @Override
  protected String originalDestinationHeader() {
    return RabbitHeaders.ORIGINAL_DESTINATION;
  }

  @Override
  protected String attemptsHeader() {
    return RabbitHeaders.ATTEMPTS;
  }

  @Override
  protected String errorHeader() {
    return RabbitHeaders.ERROR;
  }

  static Received toReceived(GetResponse response) {
    AMQP.BasicProperties properties = response.getProps();
    Map<String, String> headers = new HashMap<>();
    if (properties.getHeaders() != null) {
      properties.getHeaders().forEach((name, value) -> headers.put(name, String.valueOf(value)));
    }
    @Nullable String key = headers.get(RabbitHeaders.SUBJECT);
    return new Received(
        properties.getMessageId(),
        key,
        properties.getType(),
        new String(response.getBody(), StandardCharsets.UTF_8),
        headers);
  }
}
