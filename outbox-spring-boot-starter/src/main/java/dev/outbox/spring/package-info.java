/** Spring Boot auto-configuration of the outbox. */
@NullMarked
package dev.outbox.spring;

import org.jspecify.annotations.NullMarked;
