package dev.outbox.test;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports that a test names before anything listens on them: a broker started later on a fixed port,
 * a proxy, a child process, a port nothing may answer on.
 *
 * <p>A port taken from {@code new ServerSocket(0)} and closed again lies in the kernel's ephemeral
 * range, the range from which the kernel also picks the local port of every outgoing connection and
 * of every other bind to port 0. Between the probe and the test's own bind, an embedded broker's
 * other listeners or any client connecting may be handed the same number (a connection to that very
 * port then even meets itself), and the bind fails with "Address already in use". The ports here
 * lie below the ephemeral range, where the kernel hands out nothing on its own, so only another
 * test picking the same number at the same moment could take one.
 */
public final class TestPorts {

  /** Linux's ephemeral range, also where it starts when the range cannot be read. */
  private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

  private static final int DEFAULT_EPHEMERAL_START = 32_768;

  /** How many ports below the ephemeral range are tried. */
  private static final int SPAN = 10_000;

  private static final int ATTEMPTS = 200;

  private TestPorts() {}

  /** A port below the ephemeral range that no socket of this machine is bound to right now. */
  public static int unused() {
    int end = ephemeralStart();
    int start = Math.max(1_024, end - SPAN);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(start, end);
      // A bind on every address fails if something listens on the port on any of them.
      try (ServerSocket probe = new ServerSocket(port)) {
        return probe.getLocalPort();
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException(
        "No unused port found in " + ATTEMPTS + " tries between " + start + " and " + (end - 1));
  }

  private static int ephemeralStart() {
    try {
      String range = Files.readString(EPHEMERAL_RANGE).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > 1_024 + 1_000 ? start : DEFAULT_EPHEMERAL_START;
    } catch (IOException | RuntimeException unreadable) {
      return DEFAULT_EPHEMERAL_START;
    }
  }
}
