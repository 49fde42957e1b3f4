package dev.outbox.kafka;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/** Collects the lines the outbox logs while open. */
final class LogLines implements AutoCloseable {

  private final Logger logger = (Logger) LoggerFactory.getLogger("dev.outbox");
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  private LogLines() {
    appender.start();
    logger.addAppender(appender);
  }

  static LogLines capture() {
    return new LogLines();
  }

  /** The WARN and ERROR lines so far, formatted, in order. */
  List<String> warnings() {
    synchronized (appender.list) {
      return appender.list.stream()
          .filter(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
          .map(event -> event.getLevel() + " " + event.getFormattedMessage())
          .toList();
    }
  }

  /** The WARN and ERROR lines that contain {@code text}. */
  List<String> warnings(String text) {
    return warnings().stream().filter(line -> line.contains(text)).toList();
  }

  /** The lines of any level that contain {@code text}. */
  List<String> lines(String text) {
    synchronized (appender.list) {
      return appender.list.stream()
          .map(event -> event.getLevel() + " " + event.getFormattedMessage())
          .filter(line -> line.contains(text))
          .toList();
    }
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    appender.stop();
  }
}
