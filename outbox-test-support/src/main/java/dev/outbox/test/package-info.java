/** Test infrastructure shared by the modules' integration tests. */
@NullMarked
package dev.outbox.test;

import org.jspecify.annotations.NullMarked;
