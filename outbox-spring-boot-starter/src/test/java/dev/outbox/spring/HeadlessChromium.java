package dev.outbox.spring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's {@code chromium} in headless mode, one process per page load, each with a fresh profile.
 * Missing Chromium fails the test (CI installs it); it is never a reason to skip.
 */
final class HeadlessChromium {

  /** Overrides where Chromium is; by default {@code /usr/bin/chromium}. */
  static final String PATH_VARIABLE = "OUTBOX_TEST_CHROMIUM";

  /** Virtual time the page gets to run its timers and fetches before the DOM is taken. */
  static final int VIRTUAL_TIME_BUDGET_MILLIS = 16_000;

  /** Real time a page load may take on a loaded machine. */
  private static final long TIMEOUT_SECONDS = 120;

  private final Path executable;

  private HeadlessChromium(Path executable) {
    this.executable = executable;
  }

  static HeadlessChromium find() {
    String configured = System.getenv(PATH_VARIABLE);
    Path executable = Paths.get(configured != null ? configured : "/usr/bin/chromium");
    if (!Files.isExecutable(executable)) {
      throw new IllegalStateException(
          "Headless Chromium is needed for the operator page tests and was not found at "
              + executable
              + ": install Debian's package (apt-get install -y chromium; .ci/run does) or set "
              + PATH_VARIABLE
              + " to a Chromium executable");
    }
    return new HeadlessChromium(executable);
  }

  /** The page's DOM after its scripts ran for {@link #VIRTUAL_TIME_BUDGET_MILLIS} virtual ms. */
  String dumpDom(String url) throws IOException, InterruptedException {
    return new String(run(List.of("--dump-dom", url)), StandardCharsets.UTF_8);
  }

  /** A PNG of the page as rendered in a window of the given size. */
  Path screenshot(String url, Path file, int width, int height)
      throws IOException, InterruptedException {
    run(
        List.of(
            "--screenshot=" + file.toAbsolutePath(),
            "--window-size=" + width + "," + height,
            "--hide-scrollbars",
            url));
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("Chromium wrote no screenshot to " + file);
    }
    return file;
  }

  private byte[] run(List<String> arguments) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory("outbox-chromium-profile");
    Path log = Files.createTempFile("outbox-chromium", ".log");
    Path out = Files.createTempFile("outbox-chromium", ".out");
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.addAll(
        List.of(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=" + profile,
            "--virtual-time-budget=" + VIRTUAL_TIME_BUDGET_MILLIS));
    command.addAll(arguments);
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(log.toFile())
            .start();
    try {
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(
            "Chromium did not finish within "
                + TIMEOUT_SECONDS
                + " s: "
                + command
                + "\n"
                + Files.readString(log));
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "Chromium exited with "
                + process.exitValue()
                + ": "
                + command
                + "\n"
                + Files.readString(log));
      }
      return Files.readAllBytes(out);
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      Files.deleteIfExists(log);
      Files.deleteIfExists(out);
      deleteRecursively(profile);
    }
  }

  /** Best effort: a Chromium helper process may still be removing its own files. */
  private static void deleteRecursively(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException | UncheckedIOException ex) {
      // left in the temporary directory
    }
  }
}
