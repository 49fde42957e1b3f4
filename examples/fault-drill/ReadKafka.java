import java.io.FileWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads the topic {@code orders} from the beginning of every partition until nothing arrives for
 * 5 s, and writes {@code ce_id key} per record to a file, as a plain Kafka consumer would.
 *
 * <p>Arguments: bootstrap servers, the output file.
 */
public class ReadKafka {

  public static void main(String[] args) throws Exception {
    Properties config = new Properties();
    config.put("bootstrap.servers", args[0]);
    config.put("isolation.level", "read_committed");
    try (KafkaConsumer<String, String> consumer =
            new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer());
        PrintWriter out = new PrintWriter(new FileWriter(args[1]))) {
      List<TopicPartition> partitions =
          consumer.partitionsFor("orders").stream()
              .map(info -> new TopicPartition("orders", info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      int read = 0;
      for (long idleSince = System.nanoTime();
          System.nanoTime() - idleSince < Duration.ofSeconds(5).toNanos(); ) {
        var records = consumer.poll(Duration.ofMillis(500));
        if (!records.isEmpty()) {
          idleSince = System.nanoTime();
        }
        for (ConsumerRecord<String, String> record : records) {
          Header id = record.headers().lastHeader("ce_id");
          out.println(
              (id == null ? "none" : new String(id.value(), StandardCharsets.UTF_8))
                  + " "
                  + record.key());
          read++;
        }
      }
      System.out.println("read " + read + " records from orders");
    }
  }
}
