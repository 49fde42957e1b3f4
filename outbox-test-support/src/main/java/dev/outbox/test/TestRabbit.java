package dev.outbox.test;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * The RabbitMQ broker the integration tests run against, chosen once per JVM:
 *
 * <ol>
 *   <li>{@code OUTBOX_TEST_RABBIT_HOST} (with {@code _PORT}, {@code _USER}, {@code _PASSWORD}) if
 *       set — what CI does, with {@code OUTBOX_TEST_SERVICES=local};
 *   <li>otherwise a Testcontainers RabbitMQ if a Docker engine is reachable and {@code
 *       OUTBOX_TEST_SERVICES} is not {@code local};
 *   <li>otherwise the local broker at {@code 127.0.0.1:5672}, {@code guest}/{@code guest}.
 * </ol>
 *
 * A broker that does not answer fails the test; it is never skipped.
 *
 * <p>{@link #rabbitmqctl} runs the broker's CLI: inside the container, or on this host for a local
 * broker ({@code OUTBOX_TEST_RABBITMQCTL} names the command, default {@code rabbitmqctl}).
 */
public final class TestRabbit {

  private static final int DEFAULT_PORT = 5672;
  private static volatile @Nullable TestRabbit instance;

  private final String host;
  private final int port;
  private final String username;
  private final String password;
  private final @Nullable RabbitMQContainer container;

  private TestRabbit(
      String host,
      int port,
      String username,
      String password,
      @Nullable RabbitMQContainer container) {
    this.host = host;
    this.port = port;
    this.username = username;
    this.password = password;
    this.container = container;
  }

  public static TestRabbit get() {
    TestRabbit local = instance;
    if (local == null) {
      synchronized (TestRabbit.class) {
        local = instance;
        if (local == null) {
          local = choose();
          instance = local;
        }
      }
    }
    return local;
  }

  private static TestRabbit choose() {
    String host = System.getenv("OUTBOX_TEST_RABBIT_HOST");
    String user = env("OUTBOX_TEST_RABBIT_USER", "guest");
    String password = env("OUTBOX_TEST_RABBIT_PASSWORD", "guest");
    int port = Integer.parseInt(env("OUTBOX_TEST_RABBIT_PORT", String.valueOf(DEFAULT_PORT)));
    if (host != null && !host.isBlank()) {
      return check(new TestRabbit(host, port, user, password, null));
    }
    if (!"local".equals(System.getenv("OUTBOX_TEST_SERVICES")) && dockerAvailable()) {
      RabbitMQContainer container = new RabbitMQContainer("rabbitmq:3.13-alpine");
      container.start();
      return check(
          new TestRabbit(
              container.getHost(),
              container.getAmqpPort(),
              container.getAdminUsername(),
              container.getAdminPassword(),
              container));
    }
    return check(new TestRabbit("127.0.0.1", port, user, password, null));
  }

  private static boolean dockerAvailable() {
    return System.getenv("DOCKER_HOST") != null || Files.exists(Path.of("/var/run/docker.sock"));
  }

  private static TestRabbit check(TestRabbit rabbit) {
    try (Connection ignored = rabbit.connectionFactory().newConnection("outbox-test-check")) {
      return rabbit;
    } catch (IOException | TimeoutException ex) {
      throw new IllegalStateException(
          "RabbitMQ at "
              + rabbit.host
              + ":"
              + rabbit.port
              + " does not answer; start it (rabbitmq-server -detached, see .ci/run) or set"
              + " OUTBOX_TEST_RABBIT_HOST: "
              + ex.getMessage(),
          ex);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String username() {
    return username;
  }

  public String password() {
    return password;
  }

  /** A plain AMQP client connection factory for this broker's default virtual host. */
  public ConnectionFactory connectionFactory() {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(host);
    factory.setPort(port);
    factory.setUsername(username);
    factory.setPassword(password);
    factory.setAutomaticRecoveryEnabled(false);
    return factory;
  }

  /** A name no other test uses, for exchanges, queues and virtual hosts. */
  public static String uniqueName(String prefix) {
    return (prefix + "-" + UUID.randomUUID().toString().substring(0, 12)).toLowerCase(Locale.ROOT);
  }

  /** Creates a virtual host with a unique name that the test user may fully use. */
  public String createVirtualHost(String prefix) {
    String vhost = uniqueName(prefix);
    rabbitmqctl("add_vhost", vhost);
    rabbitmqctl("set_permissions", "-p", vhost, username, ".*", ".*", ".*");
    return vhost;
  }

  public void deleteVirtualHost(String vhost) {
    rabbitmqctl("delete_vhost", vhost);
  }

  /** Makes the broker close every client connection of {@code vhost}. */
  public void closeConnections(String vhost, String reason) {
    rabbitmqctl("close_all_connections", "--vhost", vhost, reason);
  }

  /**
   * Runs {@code rabbitmqctl} with {@code arguments} and returns its output.
   *
   * @throws IllegalStateException if it fails
   */
  public String rabbitmqctl(String... arguments) {
    if (container != null) {
      List<String> command = new ArrayList<>(List.of("rabbitmqctl"));
      command.addAll(List.of(arguments));
      try {
        ExecResult result = container.execInContainer(command.toArray(String[]::new));
        if (result.getExitCode() != 0) {
          throw new IllegalStateException(
              "rabbitmqctl " + String.join(" ", arguments) + " failed: " + result.getStderr());
        }
        return result.getStdout();
      } catch (IOException ex) {
        throw new IllegalStateException("rabbitmqctl could not run: " + ex.getMessage(), ex);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running rabbitmqctl", ex);
      }
    }
    List<String> command = new ArrayList<>(List.of(env("OUTBOX_TEST_RABBITMQCTL", "rabbitmqctl")));
    command.addAll(List.of(arguments));
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = readAll(process.getInputStream());
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command) + " exited with " + process.exitValue() + ": " + output);
      }
      return output;
    } catch (IOException ex) {
      throw new IllegalStateException(
          "Could not run " + command.get(0) + " (set OUTBOX_TEST_RABBITMQCTL): " + ex.getMessage(),
          ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running rabbitmqctl", ex);
    }
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }
}
