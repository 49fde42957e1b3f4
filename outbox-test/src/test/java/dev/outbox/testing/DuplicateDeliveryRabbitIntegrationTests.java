package dev.outbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.outbox.test.TestPostgres;
import dev.outbox.test.TestRabbit;
import dev.outbox.testing.shop.OrderService;
import dev.outbox.testing.shop.ShopApplication;
import dev.outbox.transport.OutboxTransport;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.amqp.core.AmqpAdmin;
import org.springframework.amqp.core.BindingBuilder;
import org.springframework.amqp.core.Declarables;
import org.springframework.amqp.core.FanoutExchange;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.Queue;
import org.springframework.amqp.rabbit.core.RabbitTemplate;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The duplicate-delivery mode through the RabbitMQ transport, against the real broker (a virtual
 * host of its own) and real PostgreSQL: each event arrives in the queue twice, confirmed, with the
 * same AMQP {@code message_id}.
 */
@SpringBootTest(
    classes = ShopApplication.class,
    properties = {
      "shop.orders-topic=" + DuplicateDeliveryRabbitIntegrationTests.EXCHANGE,
      "outbox.kafka.enabled=false",
      "spring.rabbitmq.publisher-confirm-type=correlated",
      "spring.rabbitmq.publisher-returns=true"
    })
@AutoConfigureOutboxTest(capture = false, duplicateCopies = 2)
@Import(DuplicateDeliveryRabbitIntegrationTests.Topology.class)
@DirtiesContext
class DuplicateDeliveryRabbitIntegrationTests {

  static final String EXCHANGE = "tk-orders";
  static final String QUEUE = "tk-orders-inventory";

  /** Long enough for a loaded machine; receive returns as soon as a message is there. */
  private static final long RECEIVE_TIMEOUT_MILLIS = 30_000;

  static final String SCHEMA = ShopDatabase.create("tk_dup_rabbit");
  static final String VHOST = TestRabbit.get().createVirtualHost("tk-dup");

  @DynamicPropertySource
  static void properties(DynamicPropertyRegistry registry) {
    ShopDatabase.register(registry, SCHEMA);
    registry.add("spring.rabbitmq.host", () -> TestRabbit.get().host());
    registry.add("spring.rabbitmq.port", () -> TestRabbit.get().port());
    registry.add("spring.rabbitmq.username", () -> TestRabbit.get().username());
    registry.add("spring.rabbitmq.password", () -> TestRabbit.get().password());
    registry.add("spring.rabbitmq.virtual-host", () -> VHOST);
  }

  @AfterAll
  static void cleanUp() {
    TestPostgres.get().dropSchema(SCHEMA);
    TestRabbit.get().deleteVirtualHost(VHOST);
  }

  @Autowired OrderService orders;
  @Autowired OutboxTestKit outbox;
  @Autowired OutboxTransport transport;
  @Autowired RabbitTemplate rabbit;
  @Autowired AmqpAdmin admin;

  @Test
  void everyEventArrivesTwiceWithTheSameMessageId() {
    assertThat(((DuplicatingOutboxTransport) transport).delegate().getClass().getSimpleName())
        .isEqualTo("RabbitOutboxTransport");
    admin.initialize();

    orders.place("o-rabbit-1", "sku-2", 1);
    outbox.drain();

    List<Message> received = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Message message = rabbit.receive(QUEUE, RECEIVE_TIMEOUT_MILLIS);
      assertThat(message).as("copy %d of the event", i + 1).isNotNull();
      received.add(message);
    }
    String id = received.get(0).getMessageProperties().getMessageId();
    assertThat(id).isNotBlank();
    assertThat(received)
        .extracting(m -> m.getMessageProperties().getMessageId())
        .containsExactly(id, id);
    assertThat(new String(received.get(1).getBody(), java.nio.charset.StandardCharsets.UTF_8))
        .contains("\"orderId\":\"o-rabbit-1\"");
    assertThat(rabbit.receive(QUEUE)).as("no third copy").isNull();
  }

  /** A fanout exchange named as the destination, bound to one queue. */
  @TestConfiguration(proxyBeanMethods = false)
  static class Topology {

    @Bean
    Declarables orderTopology() {
      FanoutExchange exchange = new FanoutExchange(EXCHANGE, false, false);
      Queue queue = new Queue(QUEUE, false, false, false);
      return new Declarables(exchange, queue, BindingBuilder.bind(queue).to(exchange));
    }
  }
}
