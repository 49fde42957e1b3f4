package dev.outbox.relay;

import dev.outbox.OutboxException;

/**
 * A relay setting out of its range, found when the relay is built. {@link #setting()} names it as
 * {@link OutboxRelay.Builder} does, so that a configuration layer can name its own property for it
 * (the starter says {@code outbox.relay.batch-size} for {@code batchSize}).
 */
public final class InvalidRelaySettingException extends OutboxException {

  private final String setting;
  private final String problem;

  InvalidRelaySettingException(String setting, String problem) {
    super("Invalid outbox relay setting: " + problem);
    this.setting = setting;
    this.problem = problem;
  }

  /** The builder's name of the setting, e.g. {@code batchSize}. */
  public String setting() {
    return setting;
  }

  /** What is wrong with it, with the value given: the message without its prefix. */
  public String problem() {
    return problem;
  }

  static void require(boolean condition, String setting, String problem) {
    if (!condition) {
      throw new InvalidRelaySettingException(setting, problem);
    }
  }
}
