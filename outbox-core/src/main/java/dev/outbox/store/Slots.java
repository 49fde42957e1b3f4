package dev.outbox.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The slot of an event, computed as the database computes the table's {@code slot} column: the low
 * six bits of the first byte of the MD5 of the key's UTF-8 bytes (of the id's text when there is no
 * key). The writer uses it to wake the relay for just the slots a transaction wrote.
 */
public final class Slots {

  /** Every slot, as a bit set. */
  public static final long ALL = -1L;

  /** One digest per thread: looking one up per event costs more than the hash itself. */
  private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(Slots::md5);

  private Slots() {}

  /** The slot of an event with {@code key} (or, when it is null, with {@code id}). */
  public static int of(@Nullable String key, UUID id) {
    return ofText(key != null ? key : id.toString());
  }

  /** The slot of the text the database hashes: the key, or the id's text. */
  public static int ofText(String hashed) {
    return MD5.get().digest(hashed.getBytes(StandardCharsets.UTF_8))[0] & (RelayStore.SLOTS - 1);
  }

  /** The bit of {@code slot} in a slot bit set. */
  public static long bit(int slot) {
    return 1L << slot;
  }

  private static MessageDigest md5() {
    try {
      return MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException ex) {
      throw new IllegalStateException("MD5 is required of every Java platform", ex);
    }
  }
}
