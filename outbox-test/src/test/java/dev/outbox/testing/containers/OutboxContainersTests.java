package dev.outbox.testing.containers;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.testcontainers.service.connection.ServiceConnection;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * What can be checked of the container configurations without starting a container: when each
 * defines its container bean, that the bean carries {@link ServiceConnection}, and the image it
 * uses. Starting the containers needs a Docker engine, which this build does not require.
 */
class OutboxContainersTests {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withUserConfiguration(
              OutboxContainers.Postgres.class,
              OutboxContainers.Kafka.class,
              OutboxContainers.Rabbit.class);

  @Test
  void alwaysDefinesEachContainerAsAServiceConnectionWithoutStartingIt() {
    runner
        .withPropertyValues("outbox.test.containers=always")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              PostgreSQLContainer postgres = context.getBean(PostgreSQLContainer.class);
              assertThat(image(postgres)).isEqualTo(OutboxContainers.POSTGRES_IMAGE);
              assertThat(postgres.isRunning()).isFalse();
              assertThat(image(context.getBean(KafkaContainer.class)))
                  .isEqualTo(OutboxContainers.KAFKA_IMAGE);
              assertThat(image(context.getBean(RabbitMQContainer.class)))
                  .isEqualTo(OutboxContainers.RABBIT_IMAGE);
              for (String bean :
                  new String[] {
                    "outboxPostgresContainer", "outboxKafkaContainer", "outboxRabbitContainer"
                  }) {
                assertThat(context.findAnnotationOnBean(bean, ServiceConnection.class))
                    .as(bean)
                    .isNotNull();
              }
            });
  }

  /**
   * The image a container was made with. Its own getter pulls the image, which needs Docker; the
   * description of the image it will pull does not.
   */
  private static String image(GenericContainer<?> container) {
    return container
        .getImage()
        .toString()
        .replaceFirst("^RemoteDockerImage\\(imageName=([^,]+),.*$", "$1");
  }

  @Test
  void imagesCanBeChosenByProperty() {
    runner
        .withPropertyValues(
            "outbox.test.containers=always",
            "outbox.test.containers.postgres-image=postgres:16-alpine")
        .run(
            context ->
                assertThat(image(context.getBean(PostgreSQLContainer.class)))
                    .isEqualTo("postgres:16-alpine"));
  }

  @Test
  void neverLeavesTheApplicationsOwnConnectionSettings() {
    runner
        .withPropertyValues("outbox.test.containers=never")
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(PostgreSQLContainer.class);
              assertThat(context).doesNotHaveBean(KafkaContainer.class);
              assertThat(context).doesNotHaveBean(RabbitMQContainer.class);
            });
  }

  /** On this build's machines no Docker engine answers, so auto defines nothing there. */
  @Test
  void autoDefinesContainersOnlyWhereDockerAnswers() {
    boolean docker = DockerClientFactory.instance().isDockerAvailable();
    runner.run(
        context -> {
          assertThat(context).hasNotFailed();
          assertThat(context.getBeansOfType(PostgreSQLContainer.class)).hasSize(docker ? 1 : 0);
          assertThat(context.getBeansOfType(KafkaContainer.class)).hasSize(docker ? 1 : 0);
        });
  }

  @Test
  void aMissingTestcontainersModuleLeavesItsContainerOut() {
    runner
        .withPropertyValues("outbox.test.containers=always")
        .withClassLoader(new FilteredClassLoader("org.testcontainers.kafka."))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(PostgreSQLContainer.class);
              assertThat(context).doesNotHaveBean("outboxKafkaContainer");
            });
  }

  @Test
  void anUnknownModeFailsNamingTheProperty() {
    runner
        .withPropertyValues("outbox.test.containers=sometimes")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "Invalid outbox.test.containers 'sometimes': use auto (containers where"
                            + " Docker answers), always or never"));
  }
}
