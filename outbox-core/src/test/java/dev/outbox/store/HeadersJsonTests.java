package dev.outbox.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeadersJsonTests {

  @Test
  void roundTripsEscapesAndControlCharacters() {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("traceparent", "00-abc-def-01");
    headers.put("quote\"key", "back\\slash\nnew\tline\u0001é");
    assertThat(HeadersJson.decode(HeadersJson.encode(headers))).isEqualTo(headers);
  }

  @Test
  void decodesWhatPostgresPrintsForJsonb() {
    assertThat(HeadersJson.decode("{}")).isEmpty();
    assertThat(HeadersJson.decode("{\"a\": \"1\", \"b\": \"x\\u0041\"}"))
        .containsEntry("a", "1")
        .containsEntry("b", "xA");
  }
}
