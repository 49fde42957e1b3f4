package dev.outbox.testing.containers;

import java.util.Locale;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.testcontainers.DockerClientFactory;

/**
 * Matches when containers should run: {@code outbox.test.containers=always}, or {@code auto} (the
 * default) and a Docker engine answers. Docker is asked once per JVM.
 */
class OnDockerCondition extends SpringBootCondition {

  static final String PROPERTY = "outbox.test.containers";

  private static volatile @Nullable Boolean dockerAvailable;

  @Override
  public ConditionOutcome getMatchOutcome(
      ConditionContext context, AnnotatedTypeMetadata metadata) {
    String mode =
        context.getEnvironment().getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
    switch (mode) {
      case "always":
        return ConditionOutcome.match(PROPERTY + "=always");
      case "never":
        return ConditionOutcome.noMatch(PROPERTY + "=never: local services are used");
      case "auto":
        return dockerAvailable()
            ? ConditionOutcome.match("a Docker engine answers")
            : ConditionOutcome.noMatch(
                "no Docker engine answers: the spring.datasource/kafka/rabbitmq settings apply");
      default:
        throw new IllegalStateException(
            "Invalid "
                + PROPERTY
                + " '"
                + mode
                + "': use auto (containers where Docker answers), always or never");
    }
  }

  private static boolean dockerAvailable() {
    Boolean known = dockerAvailable;
    if (known == null) {
      known = DockerClientFactory.instance().isDockerAvailable();
      dockerAvailable = known;
    }
    return known;
  }
}
