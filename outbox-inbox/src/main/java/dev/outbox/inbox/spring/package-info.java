/** Spring integration of the inbox: transactions, the listener annotation, auto-configuration. */
@NullMarked
package dev.outbox.inbox.spring;

import org.jspecify.annotations.NullMarked;
