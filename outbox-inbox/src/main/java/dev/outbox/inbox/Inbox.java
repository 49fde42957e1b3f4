package dev.outbox.inbox;

/**
 * Runs a message handler at most once in effect per message id and consumer.
 *
 * <p>The id is recorded in the inbox table in the same database transaction as the handler's own
 * writes: if the transaction commits, a later delivery of the same id is skipped; if it rolls back,
 * nothing is recorded and a redelivery runs the handler again. Two deliveries of one id racing in
 * different transactions are resolved by the table's primary key: the second waits for the first to
 * end, then skips (first committed) or runs (first rolled back).
 */
public interface Inbox {

  /**
   * Runs {@code handler} unless {@code consumer} has already handled {@code messageId}.
   *
   * <p>Joins the caller's transaction when one is active on the inbox's data source; otherwise
   * starts one (REQUIRED), so the inbox record and the handler's writes commit together. Any
   * exception from the handler rolls that transaction back and is rethrown.
   *
   * @param messageId the message's id (the CloudEvents {@code id}: Kafka header {@code ce_id}, AMQP
   *     {@code message_id}); at most {@value InboxDefaults#MAX_ID_LENGTH} characters
   * @param consumer the consumer's stable name: each consumer of a message handles it once; at most
   *     {@value InboxDefaults#MAX_ID_LENGTH} characters
   * @param handler the consumer's work, writing through the same data source (JDBC or JPA)
   * @return {@code true} if the handler ran, {@code false} if the message was a duplicate
   * @throws dev.outbox.OutboxException if an argument is blank or too long, or the inbox cannot be
   *     written
   */
  boolean handleOnce(String messageId, String consumer, Runnable handler);
}
