import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.io.FileWriter;
import java.io.PrintWriter;

/**
 * With {@code declare}: declares the durable queue {@code fault-drill.orders} bound to the topic
 * exchange {@code orders} with {@code #}, so it keeps every event from the start. Otherwise: takes
 * every message from it and writes {@code message_id subject} per message to a file, as a consumer
 * that knows nothing of the outbox library would read them.
 *
 * <p>Arguments: {@code declare}, or the output file.
 */
public class ReadRabbit {

  static final String QUEUE = "fault-drill.orders";

  public static void main(String[] args) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(System.getenv().getOrDefault("RABBIT_HOST", "127.0.0.1"));
    try (Connection connection = factory.newConnection();
        Channel channel = connection.createChannel()) {
      channel.exchangeDeclare("orders", "topic", true);
      channel.queueDeclare(QUEUE, true, false, false, null);
      channel.queueBind(QUEUE, "orders", "#");
      if (args[0].equals("declare")) {
        channel.queuePurge(QUEUE);
        return;
      }
      int read = 0;
      try (PrintWriter out = new PrintWriter(new FileWriter(args[0]))) {
        for (GetResponse message; (message = channel.basicGet(QUEUE, false)) != null; read++) {
          Object subject = message.getProps().getHeaders().get("cloudEvents_subject");
          out.println(message.getProps().getMessageId() + " " + subject);
          channel.basicAck(message.getEnvelope().getDeliveryTag(), false);
        }
      }
      System.out.println("read " + read + " messages from " + QUEUE);
    }
  }
}
