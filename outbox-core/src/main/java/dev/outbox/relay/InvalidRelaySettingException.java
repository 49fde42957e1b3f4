package dev.outbox.relay;

import dev.outbox.OutboxException;

/**
 * A relay setting out of its range, found when the relay is built: {@code Invalid outbox relay
 * setting: batchSize must be 1..10000, was 0}. {@link #setting()} names it as {@link
 * OutboxRelay.Builder} does and {@link #rule()} says what is wrong, so that a configuration layer
 * can put its own name for the setting in the message (the starter says {@code
 * outbox.relay.batch-size}).
 */
public final class InvalidRelaySettingException extends OutboxException {

  private final String setting;
  private final String rule;

  private InvalidRelaySettingException(String setting, String rule) {
    super("Invalid outbox relay setting: " + setting + " " + rule);
    this.setting = setting;
    this.rule = rule;
  }

  /** The builder's name of the setting, e.g. {@code batchSize}. */
  public String setting() {
    return setting;
  }

  /** What is wrong with it, with the value given, e.g. {@code must be 1..10000, was 0}. */
  public String rule() {
    return rule;
  }

  static void require(boolean condition, String setting, String rule) {
    if (!condition) {
      throw new InvalidRelaySettingException(setting, rule);
    }
  }
}
