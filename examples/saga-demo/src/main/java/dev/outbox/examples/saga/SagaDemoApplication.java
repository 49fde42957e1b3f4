package dev.outbox.examples.saga;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code java -jar saga-demo.jar [--saga.transport=kafka|rabbit] [--saga.timeout=120s] [Spring Boot
 * arguments for both services]}: runs the saga on embedded servers (with {@code rabbit}, over a
 * running RabbitMQ broker) and exits with 0 if every order ended in the expected state with
 * consistent stock, 1 if not, 2 for an invalid argument of its own.
 */
public final class SagaDemoApplication {

  private SagaDemoApplication() {}

  public static void main(String[] args) {
    Duration timeout = Duration.ofSeconds(120);
    SagaTransport transport = SagaTransport.KAFKA;
    List<String> passed = new ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("--saga.transport=")) {
        try {
          transport = SagaTransport.parse(arg.substring("--saga.transport=".length()));
        } catch (IllegalArgumentException ex) {
          System.err.println(ex.getMessage());
          System.exit(2);
        }
      } else if (arg.startsWith("--saga.timeout=")) {
        try {
          timeout = parseTimeout(arg.substring("--saga.timeout=".length()));
        } catch (IllegalArgumentException ex) {
          System.err.println(ex.getMessage());
          System.exit(2);
        }
      } else {
        passed.add(arg);
      }
    }
    Path directory = Path.of(System.getProperty("java.io.tmpdir"), "outbox-examples");
    int status;
    try {
      SagaDemo.Result result =
          new SagaDemo(System.out, timeout, directory, transport, passed.toArray(String[]::new))
              .run();
      status = result.succeeded() ? 0 : 1;
    } catch (Exception ex) {
      System.out.printf("%nThe saga demo failed: %s%n", ex);
      ex.printStackTrace();
      status = 1;
    }
    System.out.printf("Exiting with status %d.%n", status);
    System.exit(status);
  }

  /**
   * The value of {@code --saga.timeout}: a positive duration such as {@code 120s} or {@code 3m}.
   *
   * @throws IllegalArgumentException naming the value and the form expected
   */
  static Duration parseTimeout(String value) {
    Duration timeout;
    try {
      timeout = Duration.parse("PT" + value.toUpperCase(Locale.ROOT));
    } catch (RuntimeException ex) {
      timeout = Duration.ZERO;
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "Invalid --saga.timeout '" + value + "': use a duration such as 120s or 3m");
    }
    return timeout;
  }
}
