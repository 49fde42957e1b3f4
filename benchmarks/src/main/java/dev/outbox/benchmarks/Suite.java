package dev.outbox.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The benchmark suite: prepares the database and the brokers for each case, runs every case in
 * fresh JVMs ({@link Child}) {@code runs} times, and writes the results (JSON) and the report
 * (docs/benchmarks.md) after each case, so an interrupted run still leaves what it measured.
 */
public final class Suite {

  static final JsonMapper JSON = JsonMapper.builder().build();

  private final Settings settings = Settings.fromSystem();
  private final Plan plan = Plan.fromSystem();
  private final Path work = Path.of(System.getProperty("bench.work", "benchmarks/.work"));
  private final Path logs = work.resolve("logs");
  private final Path report = Path.of(System.getProperty("bench.report", "docs/benchmarks.md"));
  private final long kafkaPid = Long.getLong("bench.kafka-pid", -1);
  private final Map<String, Object> results = new LinkedHashMap<>();
  private final HikariDataSource admin;

  private Suite() {
    admin = Db.pool(settings, "suite", 2);
  }

  public static void main(String[] args) throws Exception {
    if (Boolean.getBoolean("bench.report-only")) {
      rerender();
      return;
    }
    Suite suite = new Suite();
    try {
      suite.run();
    } finally {
      suite.admin.close();
    }
    System.exit(0);
  }

  /** Renders the report again from the saved results (after editing benchmarks/NOTES.md). */
  private static void rerender() throws IOException {
    Path work = Path.of(System.getProperty("bench.work", "benchmarks/.work"));
    Path report = Path.of(System.getProperty("bench.report", "docs/benchmarks.md"));
    Map<String, Object> saved =
        JSON.readValue(
            Files.readString(work.resolve("results.json")),
            new TypeReference<LinkedHashMap<String, Object>>() {});
    Files.writeString(report, Report.render(saved));
  }

  @SuppressWarnings("unchecked")
  private void run() throws IOException {
    Files.createDirectories(logs);
    results.put("started", Instant.now().toString());
    results.put("plan", plan);
    results.put("machine", Machine.facts(admin, settings));
    Db.resetAll(admin);
    int payloadBytes = OrderEvent.checkSqlMatches(admin);
    ((Map<String, Object>) results.get("machine")).put("payloadBytes", payloadBytes);
    log("payload: about " + payloadBytes + " bytes of JSON per event (seeding matches the writer)");
    createSchema();
    Brokers.createTopic(settings, Drain.WARM_UP);
    Brokers.warmUpBroker(
        settings, Drain.WARM_UP, Integer.getInteger("bench.broker-warm-up", 200_000));
    for (String name : plan.cases()) {
      long started = System.nanoTime();
      String load = PgSampler.loadAverage();
      add("caseStarts", Map.of("case", name, "at", Instant.now().toString(), "loadAverage", load));
      log("== " + name + " (load average " + load + ")");
      try {
        switch (name) {
          case "b1" -> b1();
          case "b2" -> b2();
          case "b2-two" -> b2Two();
          case "b3" -> b3();
          case "b4-kafka" -> b4("kafka", "b4-kafka", plan.b4Count());
          case "b4-kafka-100k" -> b4("kafka", "b4-kafka-100k", plan.b4SmallCount());
          case "b4-kafka-100k-warm" -> {
            warmUpBacklog = plan.b4WarmUpCount();
            try {
              b4("kafka", "b4-kafka-100k-warm", plan.b4SmallCount());
            } finally {
              warmUpBacklog = 0;
            }
          }
          case "b4-rabbit" -> b4("rabbit", "b4-rabbit", plan.b4RabbitCount());
          case "b5" -> b5();
          case "b6" -> b6();
          case "b6-warm" -> {
            // Each relay JVM first drains a warm-up backlog of its own (b4-warm-up-count each).
            warmUpBacklog = plan.b4WarmUpCount();
            try {
              scaleOut("b6-warm-");
            } finally {
              warmUpBacklog = 0;
            }
          }
          case "modulith" -> modulith();
          default -> throw new IllegalArgumentException("unknown case " + name);
        }
      } catch (RuntimeException ex) {
        log("   case " + name + " failed: " + ex);
        add("errors", Map.of("case", name, "error", String.valueOf(ex)));
      }
      log(String.format("   %s took %.0f s", name, (System.nanoTime() - started) / 1e9));
      results.put("finished", Instant.now().toString());
      save();
    }
    // Leave the database small: the backlogs are gone, the tables stay for the next run.
    Db.truncateOutbox(admin);
    Db.execute(admin, "DROP TABLE IF EXISTS event_publication, event_publication_archive");
  }

  // ---- cases ----------------------------------------------------------------------------------

  /** The starter creates the outbox table when the first application starts, as in production. */
  private void createSchema() {
    try (ChildProcess child =
        new ChildProcess(List.of("-Xmx512m"), List.of("schema"), logs.resolve("schema.log"))) {
      child.await("RESULT", 180);
    }
    String columns = Db.queryString(admin, columnsSql());
    if (columns == null) {
      throw new IllegalStateException(
          "The starter did not create the outbox table (logs/schema.log)");
    }
    log("outbox table created by the starter: " + columns);
    results.put("outboxColumns", columns);
  }

  private static String columnsSql() {
    return "SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)"
        + " FROM information_schema.columns WHERE table_name = '"
        + Db.OUTBOX
        + "' AND table_schema = current_schema()";
  }

  private void b1() {
    for (int run = 1; run <= plan.runs(); run++) {
      Db.truncateOutbox(admin);
      Map<String, Object> r =
          inProcess("b1", run, List.of("b1", "seconds=" + plan.b1Seconds(), "warmup=2"), false);
      add("b1", r);
      log("   run " + run + ": " + r.get("addedMs") + " ms added, ratio " + r.get("txRatio"));
    }
  }

  private void b2() {
    for (int run = 1; run <= plan.runs(); run++) {
      Map<String, Object> r = latencyRun("b2", run, plan.b2Rate(), plan.b2Seconds(), run == 1);
      add("b2", r);
      log("   " + plan.b2Rate() + "/s run " + run + ": latency " + r.get("latency") + " " + pg(r));
      Map<String, Object> low =
          latencyRun("b2-low", run, plan.b2LowRate(), plan.b2Seconds(), false);
      add("b2-low", low);
      log(
          "   "
              + plan.b2LowRate()
              + "/s run "
              + run
              + ": latency "
              + low.get("latency")
              + " "
              + pg(low));
    }
  }

  /** B2's rate with two instances, each with its relay, the transactions alternating. */
  private void b2Two() {
    for (int run = 1; run <= plan.runs(); run++) {
      Map<String, Object> r = latencyRun("b2-two", run, plan.b2Rate(), plan.b2Seconds(), false, 2);
      add("b2-two", r);
      log(
          "   "
              + plan.b2Rate()
              + "/s, two instances, run "
              + run
              + ": latency "
              + r.get("latency")
              + " "
              + pg(r));
    }
  }

  private static String pg(Map<String, Object> r) {
    return "[temp bytes "
        + r.get("tempBytes")
        + ", longest relay tx "
        + r.get("longestRelayTxMs")
        + " ms, WAL "
        + (r.get("walBytes") instanceof Number n ? n.longValue() / 1_000_000 : "?")
        + " MB, full-page images "
        + r.get("walFullPageImages")
        + ", load "
        + r.get("loadAverageAtStart")
        + "]";
  }

  private Map<String, Object> latencyRun(
      String label, int run, double rate, double seconds, boolean profile) {
    return latencyRun(label, run, rate, seconds, profile, 1);
  }

  private Map<String, Object> latencyRun(
      String label, int run, double rate, double seconds, boolean profile, int instances) {
    Db.truncateOutbox(admin);
    String topic = "bench-" + label;
    Brokers.createTopic(settings, topic);
    Map<String, Object> r =
        inProcess(
            label,
            run,
            List.of(
                "latency",
                "topic=" + topic,
                "rate=" + rate,
                "seconds=" + seconds,
                "warmup=" + plan.b2WarmUpSeconds(),
                "instances=" + instances),
            profile);
    Brokers.deleteTopic(settings, topic);
    return r;
  }

  private void b3() {
    for (int perTx : new int[] {1, 10}) {
      int clients = perTx == 1 ? plan.b3Clients() : plan.b3ClientsBatch();
      for (int run = 1; run <= plan.runs(); run++) {
        Db.truncateOutbox(admin);
        Brokers.createTopic(settings, "bench-b3");
        Map<String, Object> r =
            inProcess(
                "b3-" + perTx,
                run,
                List.of(
                    "throughput",
                    "topic=bench-b3",
                    "clients=" + clients,
                    "perTx=" + perTx,
                    "seconds=" + plan.b3Seconds(),
                    "warmup=3"),
                run == 1);
        Brokers.deleteTopic(settings, "bench-b3");
        add("b3-" + perTx, r);
        log(
            "   "
                + perTx
                + "/tx run "
                + run
                + ": committed "
                + r.get("commitRate")
                + "/s, published "
                + r.get("publishRate")
                + "/s");
        if (perTx == 1) {
          b3RelayOff(clients, run);
        }
      }
    }
  }

  /**
   * The business transactions of B3 at 1 event/tx with the relay off: written through the library
   * ({@code b3-1-writer}) and with a hand-written INSERT ({@code b3-1-hand}), interleaved with the
   * outbox runs so that all three see the same machine.
   */
  private void b3RelayOff(int clients, int run) {
    for (String mode : new String[] {"writer", "hand"}) {
      Db.truncateOutbox(admin);
      Map<String, Object> r =
          inProcess(
              "b3-1-" + mode,
              run,
              List.of(
                  "throughput",
                  "mode=" + mode,
                  "topic=bench-b3",
                  "clients=" + clients,
                  "perTx=1",
                  "seconds=" + plan.b3Seconds(),
                  "warmup=3"),
              false);
      add("b3-1-" + mode, r);
      log(
          "   1/tx, relay off, "
              + mode
              + " run "
              + run
              + ": committed "
              + r.get("commitRate")
              + "/s");
    }
  }

  private void b4(String transport, String label, long count) {
    for (int run = 1; run <= plan.runs(); run++) {
      Map<String, Object> r = drain(label, run, transport, count, plan.keys(), 1, run == 1, false);
      if (transport.equals("rabbit")) {
        Map<String, Object> bare = bareRabbit(label, count);
        r.put("bareClient", bare);
        r.put(
            "rateOfBareClient",
            TxCostCase.round(((Number) r.get("rate")).doubleValue() / (long) bare.get("rate")));
      }
      add(label, r);
      log(
          "   run "
              + run
              + ": "
              + r.get("rate")
              + " events/s (10-90 %: "
              + r.get("middleRate")
              + "/s), heap "
              + r.get("maxHeapUsedMb")
              + " MB "
              + pg(r)
              + (r.get("bareClient") instanceof Map<?, ?> bare
                  ? "; bare client: " + bare.get("rate") + " messages/s"
                  : ""));
    }
  }

  /** The same count of messages from a bare client to a fresh queue of the same type. */
  private Map<String, Object> bareRabbit(String label, long count) {
    String destination = "bench-" + label + "-bare";
    CachingConnectionFactory rabbit = Brokers.rabbitConnectionFactory(settings);
    try {
      Brokers.rabbitTopology(rabbit, destination, settings.rabbitQueueType());
      Map<String, Object> bare =
          BareRabbit.publish(rabbit, destination, count, plan.keys(), kafkaPid);
      bare.put("onBroker", Brokers.rabbitQueueDepth(rabbit, destination));
      return bare;
    } finally {
      Brokers.rabbitDelete(rabbit, destination);
      rabbit.destroy();
    }
  }

  private void b6() {
    scaleOut("b6-");
    if (plan.b6Failover()) {
      // kill -9 of one of three relay JVMs at 30 % of the drain.
      failover = true;
      try {
        Map<String, Object> r =
            drain("b6-failover", 1, "kafka", plan.b6Count(), plan.b6Keys(), 3, false, true);
        add("b6-failover", r);
        log("   failover: " + r.get("failover") + ", order " + r.get("order") + " " + pg(r));
      } finally {
        failover = false;
      }
    }
  }

  /** The same backlog drained by 1 and by 3 relay JVMs, {@code plan.runs()} times each. */
  private void scaleOut(String prefix) {
    for (int instances : new int[] {1, 3}) {
      for (int run = 1; run <= plan.runs(); run++) {
        Map<String, Object> r =
            drain(
                prefix + instances,
                run,
                "kafka",
                plan.b6Count(),
                plan.b6Keys(),
                instances,
                false,
                true);
        add(prefix + instances, r);
        log(
            "   "
                + instances
                + " instance(s) run "
                + run
                + ": "
                + r.get("rate")
                + "/s, order "
                + r.get("order")
                + " "
                + pg(r));
      }
    }
  }

  /**
   * How the drain rate developed, from one instance's progress samples (100 ms apart): the rate
   * between 10 % and 90 % of the backlog, which leaves out the start (JIT compilation of a fresh
   * JVM, the first lease renewal) and the tail.
   */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> ramp(Map<String, Object> instance, long count) {
    List<List<Number>> samples = (List<List<Number>>) instance.get("progress");
    Map<String, Object> out = new LinkedHashMap<>();
    if (samples == null || samples.isEmpty()) {
      return out;
    }
    double from = crossing(samples, count / 10);
    double to = crossing(samples, count * 9 / 10);
    if (to > from) {
      out.put("middleRate", Math.round(count * 0.8 / ((to - from) / 1000.0)));
    }
    return out;
  }

  /** The time (ms after GO) at which the count reached {@code target}, interpolated. */
  private static double crossing(List<List<Number>> samples, long target) {
    double previousTime = 0;
    double previousCount = 0;
    for (List<Number> sample : samples) {
      double time = sample.get(0).doubleValue();
      double events = sample.get(1).doubleValue();
      if (events >= target) {
        return previousTime
            + (time - previousTime) * (target - previousCount) / (events - previousCount);
      }
      previousTime = time;
      previousCount = events;
    }
    return previousTime;
  }

  /** Events of a backlog the relay drains before the measured one (a warm JVM); 0: none. */
  private long warmUpBacklog;

  /** Set while the B6 failover run drains: instance 2 is killed with SIGKILL at 30 %. */
  private boolean failover;

  private void b5() {
    for (int run = 1; run <= plan.runs(); run++) {
      Db.truncateOutbox(admin);
      Brokers.createTopic(settings, "bench-idle");
      try (ChildProcess child =
          new ChildProcess(
              List.of("-Xmx256m"),
              List.of("relay", "transport=kafka", "sampleHeap=false"),
              logs.resolve("b5-" + run + ".log"))) {
        child.await("READY", 120);
        child.send("GO");
        sleep(5000);
        child.send("MARK");
        child.await("MARKED", 30);
        long xacts0 = xacts();
        CpuMeter meter = new CpuMeter(List.of(child.pid()), kafkaPid);
        sleep((long) (plan.b5Seconds() * 1000));
        Map<String, Object> cores = meter.cores();
        long xacts1 = xacts();
        child.send("STOP");
        Map<String, Object> r = parse(child.await("RESULT", 60));
        r.put("cpuCores", cores);
        r.put(
            "pgTransactionsPerSecond", TxCostCase.round((xacts1 - xacts0 - 1) / plan.b5Seconds()));
        add("b5", r);
        log(
            "   run "
                + run
                + ": "
                + r.get("statementsPerSecond")
                + " statements/s, CPU "
                + r.get("cpuPercent")
                + " %");
      }
      Brokers.deleteTopic(settings, "bench-idle");
    }
  }

  private void modulith() {
    for (int run = 1; run <= plan.runs(); run++) {
      Map<String, Object> ours =
          latencyRun("side-outbox", run, plan.modulithRate(), plan.modulithSeconds(), false);
      add("side-outbox-latency", ours);
      Map<String, Object> theirs =
          modulithRun(
              "side-modulith-latency",
              run,
              List.of(
                  "mode=latency",
                  "rate=" + plan.modulithRate(),
                  "seconds=" + plan.modulithSeconds(),
                  "warmup=" + plan.b2WarmUpSeconds()),
              run == 1);
      add("side-modulith-latency", theirs);
      log(
          "   latency run "
              + run
              + ": outbox "
              + ours.get("latency")
              + " / modulith "
              + theirs.get("latency"));
    }
    for (int run = 1; run <= plan.runs(); run++) {
      Map<String, Object> ours =
          drain(
              "side-outbox-drain",
              run,
              "kafka",
              plan.modulithDrainCount(),
              plan.keys(),
              1,
              false,
              false);
      add("side-outbox-drain", ours);
      Map<String, Object> theirs =
          modulithRun(
              "side-modulith-drain",
              run,
              List.of("mode=drain", "count=" + plan.modulithDrainCount()),
              false);
      add("side-modulith-drain", theirs);
      log(
          "   drain run "
              + run
              + ": outbox "
              + ours.get("rate")
              + "/s / modulith "
              + theirs.get("rate")
              + "/s");
    }
    for (int run = 1; run <= plan.modulithHighRateRuns(); run++) {
      Map<String, Object> theirs =
          modulithRun(
              "side-modulith-high",
              run,
              List.of(
                  "mode=latency",
                  "rate=" + plan.b2Rate(),
                  "seconds=" + plan.modulithSeconds(),
                  "warmup=" + plan.b2WarmUpSeconds()),
              false);
      add("side-modulith-high", theirs);
      log(
          "   modulith at "
              + plan.b2Rate()
              + "/s: "
              + theirs.get("latency")
              + ", unacked "
              + theirs.get("unacked"));
    }
  }

  private Map<String, Object> modulithRun(
      String label, int run, List<String> args, boolean profile) {
    Db.execute(admin, "DROP TABLE IF EXISTS event_publication, event_publication_archive");
    Brokers.createTopic(settings, ModulithOrderEvent.TOPIC);
    List<String> all = new ArrayList<>();
    all.add("modulith");
    all.addAll(args);
    Map<String, Object> r = inProcess(label, run, all, profile);
    Brokers.deleteTopic(settings, ModulithOrderEvent.TOPIC);
    return r;
  }

  // ---- building blocks ------------------------------------------------------------------------

  /** Runs a case that measures inside its own JVM, with the CPU split of its window. */
  private Map<String, Object> inProcess(String label, int run, List<String> args, boolean profile) {
    List<String> jvm = new ArrayList<>(List.of("-Xms1g", "-Xmx1g"));
    Path recording = work.resolve("profiles").resolve(label + "-" + run + ".jfr");
    if (profile && plan.profile()) {
      jvm.add("-XX:StartFlightRecording=filename=" + recording + ",settings=profile");
      mkdirs(recording.getParent());
    }
    Map<String, Object> r;
    PgSampler sampler;
    try (ChildProcess child =
        new ChildProcess(jvm, args, logs.resolve(label + "-" + run + ".log"))) {
      child.await("WINDOW-START", 180);
      sampler = new PgSampler(admin, settings.jdbcUrl(), settings.dbUser());
      CpuMeter meter = new CpuMeter(List.of(child.pid()), kafkaPid);
      child.await("WINDOW-END", 900);
      Map<String, Object> cores = meter.cores();
      sampler.close();
      r = parse(child.await("RESULT", 120));
      r.put("cpuCores", cores);
    }
    if (!args.get(0).equals("modulith")
        && !args.get(0).equals("b1")
        && args.stream().noneMatch(a -> a.startsWith("mode="))) {
      r.putAll(sampler.result());
    } else {
      r.put("loadAverageAtStart", sampler.result().get("loadAverageAtStart"));
    }
    if (profile && plan.profile() && Files.exists(recording)) {
      r.put("profile", profile(recording));
    }
    return r;
  }

  /**
   * Seeds a backlog, starts {@code instances} relay JVMs (256 MB heap each), lets them drain it and
   * measures the rate from the start signal to the last acknowledged event.
   */
  private Map<String, Object> drain(
      String label,
      int run,
      String transport,
      long count,
      int keys,
      int instances,
      boolean profile,
      boolean checkOrder) {
    Db.truncateOutbox(admin);
    String destination = "bench-" + label;
    CachingConnectionFactory rabbit = null;
    if (transport.equals("rabbit")) {
      rabbit = Brokers.rabbitConnectionFactory(settings);
      Brokers.rabbitTopology(rabbit, destination, settings.rabbitQueueType());
      Brokers.rabbitTopology(rabbit, Drain.WARM_UP, settings.rabbitQueueType());
    } else {
      Brokers.createTopic(settings, destination);
    }
    long seedStart = System.nanoTime();
    // A warm relay first drains a backlog of its own (to the warm-up destination, not counted);
    // with several relay JVMs, as many as there are JVMs.
    long warmUp = warmUpBacklog * instances;
    Db.seedBacklog(
        admin, warmUp > 0 ? Drain.WARM_UP : destination, warmUp > 0 ? warmUp : count, keys);
    double seedSeconds = (System.nanoTime() - seedStart) / 1e9;
    List<ChildProcess> children = new ArrayList<>();
    List<Long> pids = new ArrayList<>();
    Path recording = work.resolve("profiles").resolve(label + "-" + run + ".jfr");
    Map<String, Object> r = new LinkedHashMap<>();
    PgSampler pgAfter = null;
    try {
      for (int i = 1; i <= instances; i++) {
        List<String> jvm = new ArrayList<>(List.of("-Xmx256m"));
        jvm.addAll(plan.relayJvmOptions());
        if (profile && plan.profile() && i == 1) {
          mkdirs(recording.getParent());
          jvm.add("-XX:StartFlightRecording=filename=" + recording + ",settings=profile");
        }
        ChildProcess child =
            new ChildProcess(
                jvm,
                relayArgs(label, transport, i),
                logs.resolve(label + "-" + run + "-" + i + ".log"));
        children.add(child);
        pids.add(child.pid());
      }
      for (ChildProcess child : children) {
        child.await("READY", 120);
      }
      PgSampler sampler = new PgSampler(admin, settings.jdbcUrl(), settings.dbUser());
      CpuMeter meter = new CpuMeter(pids, kafkaPid);
      for (ChildProcess child : children) {
        child.send("GO");
      }
      long deadline = System.nanoTime() + 900_000_000_000L;
      if (warmUp > 0) {
        while (Db.anyPending(admin) && System.nanoTime() < deadline) {
          sleep(100);
        }
        // The relays stop (the JVMs stay up, their code compiled) while the measured backlog is
        // seeded, analyzed and checkpointed as for a cold drain; they start again together, and
        // the drain is timed from that signal, as a cold one is from its start signal.
        for (ChildProcess child : children) {
          child.send("PAUSE");
        }
        for (ChildProcess child : children) {
          child.await("PAUSED", 60);
        }
        log(
            "   warm-up backlog of "
                + warmUp
                + " drained, relays stopped; seeding the measured one");
        Db.seedBacklog(admin, destination, count, keys);
        sampler.close();
        sampler = new PgSampler(admin, settings.jdbcUrl(), settings.dbUser());
        meter = new CpuMeter(pids, kafkaPid);
        for (ChildProcess child : children) {
          child.send("RESUME");
        }
      }
      long done = 0;
      ChildProcess killed = null;
      long killMillis = 0;
      while (System.nanoTime() < deadline) {
        done = children.stream().mapToLong(ChildProcess::progress).sum();
        if (failover && killed == null && done >= count * 3 / 10) {
          killed = children.get(1);
          killMillis = System.currentTimeMillis();
          killed.kill();
          log("   killed relay JVM 2 (pid " + killed.pid() + ") with SIGKILL at " + done);
        }
        // After a kill the acknowledgements no longer add up: the killed JVM's last ones may have
        // been counted by nobody (acknowledged and deleted after its last progress line) or twice
        // (sent again by a survivor). The table says when the backlog is gone.
        if (killed == null ? done >= count : Db.pending(admin) == 0) {
          break;
        }
        sleep(killed == null ? 50 : 250);
      }
      if (killed != null) {
        children.remove(killed);
        r.put("killMillis", killMillis);
      }
      r.put("cpuCores", meter.cores());
      sampler.close();
      for (ChildProcess child : children) {
        child.send("STOP");
      }
      List<Map<String, Object>> instancesOut = new ArrayList<>();
      pgAfter = sampler;
      long start = Long.MAX_VALUE;
      long last = 0;
      long published = 0;
      double maxHeap = 0;
      for (ChildProcess child : children) {
        Map<String, Object> one = parse(child.await("RESULT", 60));
        instancesOut.add(one);
        start = Math.min(start, ((Number) one.get("startMillis")).longValue());
        last = Math.max(last, ((Number) one.get("lastMillis")).longValue());
        published += ((Number) one.get("published")).longValue();
        maxHeap = Math.max(maxHeap, ((Number) one.get("maxHeapUsedMb")).doubleValue());
      }
      long first = Long.MAX_VALUE;
      for (Map<String, Object> one : instancesOut) {
        long f = ((Number) one.get("firstMillis")).longValue();
        if (f > 0) {
          first = Math.min(first, f);
        }
      }
      if (warmUp > 0) {
        start = Long.MAX_VALUE;
        for (Map<String, Object> one : instancesOut) {
          start = Math.min(start, ((Number) one.get("resumeMillis")).longValue());
        }
      }
      double seconds = (last - start) / 1000.0;
      r.put("count", count);
      if (warmUp > 0) {
        r.put("warmUpEvents", warmUp);
      }
      r.put("instances", instances);
      r.put("keys", keys);
      r.put("seedSeconds", TxCostCase.round(seedSeconds));
      r.put("published", published);
      r.put("seconds", seconds);
      // After a kill the survivors' counts miss what the killed JVM acknowledged: count the
      // backlog, which the loop above waited to see emptied.
      r.put("rate", Math.round((killed != null ? count : published) / seconds));
      r.put("firstPublishAfterMs", first - start);
      if (instancesOut.size() == 1 && killed == null) {
        r.putAll(ramp(instancesOut.get(0), count));
      }
      r.put("maxHeapUsedMb", maxHeap);
      r.put("perInstance", instancesOut);
      r.put("pendingAfter", Db.pending(admin));
      if (rabbit != null) {
        r.put("brokerCount", Brokers.rabbitQueueDepth(rabbit, destination));
      } else {
        r.put("brokerCount", Brokers.topicRecords(settings, destination));
      }
      if (checkOrder) {
        Map<String, Object> order =
            OrderCheck.check(
                settings,
                destination,
                count,
                (long) r.getOrDefault("killMillis", 0L),
                "outbox-bench-2");
        Object gaps = order.remove("failover");
        r.put("order", order);
        if (gaps != null) {
          r.put("failover", gaps);
        }
      }
    } finally {
      for (ChildProcess child : children) {
        child.close();
      }
      if (pgAfter != null) {
        r.putAll(pgAfter.result());
      }
      if (rabbit != null) {
        Brokers.rabbitDelete(rabbit, destination);
        Brokers.rabbitDelete(rabbit, Drain.WARM_UP);
        rabbit.destroy();
      } else {
        Brokers.deleteTopic(settings, destination);
      }
    }
    if (profile && plan.profile() && Files.exists(recording)) {
      r.put("profile", profile(recording));
    }
    return r;
  }

  /**
   * Each relay JVM of B6 has its own {@code spring.application.name}, which the Kafka transport
   * sends as the CloudEvents source: the order check tells the instances' records apart by it.
   */
  private List<String> relayArgs(String label, String transport, int instance) {
    List<String> args =
        new ArrayList<>(List.of("relay", "transport=" + transport, "instance=" + instance));
    if (label.startsWith("b6")) {
      args.add("spring.application.name=outbox-bench-" + instance);
    }
    return args;
  }

  private static Map<String, Object> profile(Path recording) {
    Map<String, Object> profile = new LinkedHashMap<>(JfrSummary.summarise(recording, 12));
    profile.put("relayWaits", JfrWaits.summarise(recording, "relay", 10));
    return profile;
  }

  private long xacts() {
    return Db.queryLong(
        admin,
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname ="
            + " current_database()");
  }

  @SuppressWarnings("unchecked")
  private void add(String key, Map<String, Object> value) {
    ((List<Object>) results.computeIfAbsent(key, k -> new ArrayList<>())).add(value);
  }

  private static Map<String, Object> parse(String json) {
    return JSON.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {});
  }

  private void save() throws IOException {
    Files.writeString(
        work.resolve("results.json"),
        JSON.writerWithDefaultPrettyPrinter().writeValueAsString(results));
    Files.createDirectories(report.toAbsolutePath().getParent());
    Files.writeString(report, Report.render(results));
  }

  private static void mkdirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException ex) {
      throw new IllegalStateException(ex);
    }
  }

  static void sleep(long millis) {
    LatencyCase.sleep(millis);
  }

  static void log(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
