package dev.outbox.kafka.multi;

import static org.awaitility.Awaitility.await;

import dev.outbox.test.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link StandaloneRelay} running in a JVM of its own, on this JVM's class path. Its output goes
 * to {@code target/relay-logs/<name>.log}. {@link #kill()} is {@code kill -9}: on Linux {@link
 * Process#destroyForcibly()} sends SIGKILL, so the relay gets no chance to finish its batch or
 * release anything; its database session and Kafka connections die with the process.
 */
public final class RelayProcess implements AutoCloseable {

  private final String name;
  private final Process process;
  private final Path log;

  private RelayProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** The topic relays send one record to before they start; create it before starting them. */
  public static final String WARM_UP_TOPIC = "relay-warm-up";

  /** Starts a relay on the outbox table in {@code schema}, publishing to {@code bootstrap}. */
  public static RelayProcess start(String name, String schema, String bootstrap, int batchSize) {
    TestPostgres postgres = TestPostgres.get();
    Path log = Path.of("target", "relay-logs", name + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            StandaloneRelay.class.getName(),
            postgres.url(),
            postgres.user(),
            postgres.password(),
            schema,
            bootstrap,
            name,
            Integer.toString(batchSize),
            WARM_UP_TOPIC));
    try {
      Files.createDirectories(log.getParent());
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      return new RelayProcess(name, process, log);
    } catch (IOException ex) {
      throw new UncheckedIOException("Could not start relay process " + name, ex);
    }
  }

  /** Starts several relays and waits until every one of them runs. */
  public static List<RelayProcess> startAll(
      List<String> names, String schema, String bootstrap, int batchSize) {
    List<RelayProcess> relays = new ArrayList<>();
    try {
      for (String name : names) {
        relays.add(start(name, schema, bootstrap, batchSize));
      }
      for (RelayProcess relay : relays) {
        relay.awaitReady(Duration.ofSeconds(60));
      }
      return relays;
    } catch (RuntimeException | Error ex) {
      relays.forEach(RelayProcess::close);
      throw ex;
    }
  }

  public String name() {
    return name;
  }

  public void awaitReady(Duration timeout) {
    await("relay " + name + " ready (see " + log + ")")
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> output().contains(StandaloneRelay.READY) || !process.isAlive());
    if (!process.isAlive()) {
      throw new IllegalStateException(
          "relay " + name + " exited with " + process.exitValue() + ":\n" + output());
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** {@code kill -9}: SIGKILL, then waits until the process is gone. */
  public void kill() {
    process.destroyForcibly();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("relay " + name + " survived SIGKILL for 10 s");
      }
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while killing relay " + name, ex);
    }
  }

  /** SIGSTOP: the process is frozen (its database sessions stay open) until {@link #resume()}. */
  public void freeze() {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze()}. */
  public void resume() {
    signal("CONT");
  }

  private void signal(String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " of relay " + name + " failed");
      }
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling relay " + name, ex);
    }
  }

  public String output() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException ex) {
      return "";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }
}
