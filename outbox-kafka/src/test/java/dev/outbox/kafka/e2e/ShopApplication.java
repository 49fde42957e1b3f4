package dev.outbox.kafka.e2e;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A small order service as a user would write it: a JPA entity, a repository and a transactional
 * service method annotated with {@code @PublishEvent}. Everything else comes from the outbox
 * starter's and the Kafka transport's auto-configuration.
 */
@SpringBootApplication
public class ShopApplication {}
