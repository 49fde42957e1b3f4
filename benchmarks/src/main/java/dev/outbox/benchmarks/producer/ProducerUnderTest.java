package dev.outbox.benchmarks.producer;

import org.apache.kafka.clients.producer.KafkaProducer;

/** A producer with one configuration under test, its flush thread, and a topic of its own. */
record ProducerUnderTest(
    ProducerConfigCase config,
    String topic,
    KafkaProducer<String, String> producer,
    FlushThread flusher,
    long[] sent)
    implements AutoCloseable {

  static ProducerUnderTest open(ProducerConfigCase config, String bootstrap, String topic) {
    KafkaProducer<String, String> producer = new KafkaProducer<>(config.producerConfig(bootstrap));
    return new ProducerUnderTest(config, topic, producer, new FlushThread(producer), new long[1]);
  }

  /** The index of the next payload to send. */
  long next() {
    return sent[0]++;
  }

  @Override
  public void close() {
    flusher.close();
    producer.close();
  }
}
