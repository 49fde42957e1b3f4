package dev.outbox.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/** The facts of the machine and the services a run was measured on. */
final class Machine {

  private Machine() {}

  static Map<String, Object> facts(DataSource dataSource, Settings settings) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("cpus", Runtime.getRuntime().availableProcessors());
    out.put("cpuModel", firstLine("/proc/cpuinfo", "model name"));
    out.put("memory", firstLine("/proc/meminfo", "MemTotal"));
    out.put("kernel", read("/proc/version").split(" ")[2]);
    out.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    out.put("applicationJava", applicationJava());
    out.put("postgresql", Db.queryString(dataSource, "SHOW server_version"));
    out.put(
        "postgresqlSettings",
        Db.queryString(
            dataSource,
            "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)"
                + " FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit',"
                + " 'fsync', 'wal_level', 'max_wal_size', 'checkpoint_timeout')"));
    out.put(
        "kafka",
        System.getProperty("bench.kafka-version", "?") + " (one KRaft broker, separate JVM)");
    out.put("rabbitmq", rabbitVersion(settings));
    out.put("rabbitQueueType", settings.rabbitQueueType());
    out.put("commit", System.getProperty("bench.git-commit", "?"));
    out.put("loadAverageAtStart", read("/proc/loadavg").trim());
    out.put("library defaults (OutboxDefaults)", constants("dev.outbox.relay.OutboxDefaults"));
    out.put(
        "Kafka transport defaults (KafkaOutboxDefaults)",
        constants("dev.outbox.kafka.KafkaOutboxDefaults"));
    return out;
  }

  /** The VM line (the third) of {@code java -version} of the application JVMs' java. */
  private static String applicationJava() {
    try {
      Process process =
          new ProcessBuilder(ChildProcess.java(), "-version").redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes()).trim();
      process.waitFor();
      String[] lines = out.split("\n");
      return lines.length > 2 ? lines[2].trim() : out;
    } catch (IOException ex) {
      return "unknown (" + ex.getMessage() + ")";
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static String rabbitVersion(Settings settings) {
    CachingConnectionFactory factory = Brokers.rabbitConnectionFactory(settings);
    try (var connection = factory.getRabbitConnectionFactory().newConnection()) {
      return String.valueOf(connection.getServerProperties().get("version"));
    } catch (Exception ex) {
      return "unknown (" + ex.getMessage() + ")";
    } finally {
      factory.destroy();
    }
  }

  /** The public constants of a defaults class, read reflectively so the suite follows main. */
  private static String constants(String className) {
    try {
      StringBuilder out = new StringBuilder();
      for (java.lang.reflect.Field field : Class.forName(className).getFields()) {
        if (java.lang.reflect.Modifier.isStatic(field.getModifiers())) {
          out.append(out.isEmpty() ? "" : ", ")
              .append(field.getName())
              .append('=')
              .append(field.get(null));
        }
      }
      return out.toString();
    } catch (ReflectiveOperationException ex) {
      return "?";
    }
  }

  private static String firstLine(String file, String prefix) {
    for (String line : read(file).split("\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    return "?";
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file));
    } catch (IOException ex) {
      return "?";
    }
  }
}
