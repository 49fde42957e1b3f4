package dev.outbox.benchmarks.producer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A single-node KRaft broker run from the Maven Central jars in {@code libs} as a separate process,
 * with its data in a directory of its own, on ports of its own (not the benchmark suite's).
 */
final class StandaloneBroker implements AutoCloseable {

  private final Process process;
  private final Path dir;
  private final String bootstrap;

  private StandaloneBroker(Process process, Path dir, String bootstrap) {
    this.process = process;
    this.dir = dir;
    this.bootstrap = bootstrap;
  }

  static StandaloneBroker start(Path libs, int port, int controllerPort)
      throws IOException, InterruptedException {
    if (open(port)) {
      throw new IllegalStateException("port " + port + " is taken; set -Dbench.port");
    }
    Path dir = Files.createTempDirectory("outbox-producer-bench-");
    Path config = dir.resolve("server.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
            "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=" + dir.resolve("data"),
            "num.partitions=6",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "auto.create.topics.enable=false",
            "delete.topic.enable=true",
            ""));
    String classpath = libs.toAbsolutePath() + "/*";
    Process format =
        new ProcessBuilder(
                "java",
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                "pEoLmIkZQ4WvNdV1yLbYBg",
                "-c",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("format.log").toFile())
            .start();
    if (format.waitFor() != 0) {
      throw new IllegalStateException("formatting failed, see " + dir.resolve("format.log"));
    }
    Process broker =
        new ProcessBuilder(
                "java", "-Xms512m", "-Xmx1g", "-cp", classpath, "kafka.Kafka", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("kafka.log").toFile())
            .start();
    StandaloneBroker started = new StandaloneBroker(broker, dir, "127.0.0.1:" + port);
    Runtime.getRuntime().addShutdownHook(new Thread(started::close));
    for (int i = 0; i < 120 && !open(port); i++) {
      if (!broker.isAlive()) {
        throw new IllegalStateException("broker exited, see " + dir.resolve("kafka.log"));
      }
      Thread.sleep(500);
    }
    if (!open(port)) {
      started.close();
      throw new IllegalStateException("broker did not open port " + port);
    }
    return started;
  }

  String bootstrap() {
    return bootstrap;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException ex) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    Path data = dir.resolve("data");
    if (Files.exists(data)) {
      try (Stream<Path> files = Files.walk(data)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException ex) {
        System.err.println("could not delete " + data + ": " + ex);
      }
    }
  }

  private static boolean open(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException ex) {
      return false;
    }
  }
}
