package dev.outbox.benchmarks.producer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * Creates a topic and makes sure every partition takes writes before a measurement starts. Right
 * after creation, a produce request can reach a partition before its leader is ready; an idempotent
 * producer that has already sent later batches then retries with out-of-order sequence numbers.
 */
final class TopicReady {

  private TopicReady() {}

  static void create(Admin admin, String topic, int partitions) throws Exception {
    admin
        .createTopics(List.of(new NewTopic(topic, partitions, (short) 1)))
        .all()
        .get(30, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      TopicDescription description;
      try {
        description = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
      } catch (ExecutionException ex) {
        description = null; // not known to the broker yet
      }
      if (description != null
          && description.partitions().size() == partitions
          && description.partitions().stream().allMatch(p -> p.leader() != null)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("partitions of " + topic + " have no leader after 30 s");
  }

  /** One record per partition, each awaited, before any batch is sent. */
  static void probe(Producer<String, String> producer, String topic, int partitions)
      throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      sent.add(producer.send(new ProducerRecord<>(topic, p, "probe", "{}")));
    }
    producer.flush();
    for (Future<RecordMetadata> f : sent) {
      f.get(30, TimeUnit.SECONDS);
    }
  }
}
