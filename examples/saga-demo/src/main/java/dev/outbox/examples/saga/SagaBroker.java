package dev.outbox.examples.saga;

import java.util.List;

/** The message broker the saga runs over, as the demo and its tests see it. */
interface SagaBroker extends AutoCloseable {

  /** The broker's name in the printed steps: {@code kafka} or {@code rabbitmq}. */
  String name();

  /**
   * What the broker calls the message id the inboxes key on: {@code ce_id} or {@code message_id}.
   */
  String idName();

  /** Where the saga's messages travel, for the demo's text: "the topics orders and stock". */
  String destinations();

  /** One line saying which broker this is and where, for the demo's output. */
  String description();

  /** The Spring Boot arguments that point a service at this broker. */
  List<String> serviceArguments();

  /**
   * Whether both services consume from the broker, so that no message published from now on can
   * miss them.
   */
  boolean servicesConsuming();

  /** Starts copying every message of the saga once (see {@link DuplicateInjector}). */
  DuplicateInjector injectDuplicates(SagaTrace trace);

  /** Removes what the run left on the broker, if anything; the services have stopped. */
  @Override
  void close();
}
