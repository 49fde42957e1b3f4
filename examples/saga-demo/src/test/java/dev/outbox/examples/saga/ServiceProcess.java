package dev.outbox.examples.saga;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A service's Spring Boot application in a JVM of its own (this JVM's class path), so that a test
 * can kill it with SIGKILL — no shutdown hook, no graceful close — and start it again.
 */
final class ServiceProcess implements AutoCloseable {

  private final Process process;

  private ServiceProcess(Process process) {
    this.process = process;
  }

  static ServiceProcess start(Class<?> mainClass, Path log, String... arguments)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    // The service lives for seconds and handles a few messages: its JVM's startup is what the
    // test waits for, twice per run. C1 alone (no C2 compiler threads) and the serial collector
    // start a Spring Boot application markedly faster on few cores, and change nothing of what
    // the service does or of how it dies.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(arguments));
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new ServiceProcess(process);
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** SIGKILL, as {@code kill -9}; waits until the process is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("The service process did not die within 30 s of SIGKILL");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
