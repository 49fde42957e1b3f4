package dev.outbox.test;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * Collects what a logger (and the loggers below it) logs while open, as {@code "LEVEL message"}
 * lines: {@code try (LogCapture log = LogCapture.of(BatchPublisher.class)) { … }}. Safe to read
 * while other threads still log.
 */
public final class LogCapture implements AutoCloseable {

  private final Logger logger;
  private final @Nullable Level levelBefore;
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogCapture(Logger logger, @Nullable Level level) {
    this.logger = logger;
    this.levelBefore = logger.getLevel();
    if (level != null) {
      logger.setLevel(level);
    }
    appender.start();
    logger.addAppender(appender);
  }

  /** Captures the logger of {@code type} at its configured level. */
  public static LogCapture of(Class<?> type) {
    return new LogCapture((Logger) LoggerFactory.getLogger(type), null);
  }

  /** Captures the logger {@code name} (e.g. {@code "dev.outbox"}) at its configured level. */
  public static LogCapture of(String name) {
    return new LogCapture((Logger) LoggerFactory.getLogger(name), null);
  }

  /** Captures the logger of {@code type} at {@code level} until closed. */
  public static LogCapture of(Class<?> type, Level level) {
    return new LogCapture((Logger) LoggerFactory.getLogger(type), level);
  }

  /** The lines so far, in order. */
  public List<String> lines() {
    return matching(event -> true);
  }

  /** The lines so far that contain {@code text}. */
  public List<String> lines(String text) {
    return lines().stream().filter(line -> line.contains(text)).toList();
  }

  /** The WARN and ERROR lines so far, in order. */
  public List<String> warnings() {
    return matching(event -> event.getLevel().isGreaterOrEqual(Level.WARN));
  }

  /** The WARN and ERROR lines so far that contain {@code text}. */
  public List<String> warnings(String text) {
    return warnings().stream().filter(line -> line.contains(text)).toList();
  }

  /** The logged events so far, in order, with their level and MDC. */
  public List<ILoggingEvent> events() {
    synchronized (appender) {
      return List.copyOf(appender.list);
    }
  }

  private List<String> matching(Predicate<ILoggingEvent> filter) {
    synchronized (appender) { // the appender adds under its own lock
      return appender.list.stream()
          .filter(filter)
          .map(event -> event.getLevel() + " " + event.getFormattedMessage())
          .toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
    logger.setLevel(levelBefore);
  }
}
