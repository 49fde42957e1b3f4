package dev.outbox.store;

import java.util.LinkedHashMap;
import java.util.Map;

/** Encodes and decodes the flat string map kept in the {@code headers} jsonb column. */
final class HeadersJson {

  private HeadersJson() {}

  static String encode(Map<String, String> headers) {
    if (headers.isEmpty()) {
      return "{}";
    }
    StringBuilder out = new StringBuilder(64).append('{');
    boolean first = true;
    for (Map.Entry<String, String> entry : headers.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      quote(out, entry.getKey());
      out.append(':');
      quote(out, entry.getValue());
    }
    return out.append('}').toString();
  }

  private static void quote(StringBuilder out, String value) {
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** Decodes a JSON object whose values are all strings, as PostgreSQL prints jsonb. */
  static Map<String, String> decode(String json) {
    Parser parser = new Parser(json);
    return parser.object();
  }

  private static final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    Map<String, String> object() {
      Map<String, String> result = new LinkedHashMap<>();
      expect('{');
      skipSpace();
      if (peek() == '}') {
        pos++;
        return result;
      }
      while (true) {
        skipSpace();
        String key = string();
        skipSpace();
        expect(':');
        skipSpace();
        result.put(key, string());
        skipSpace();
        char c = text.charAt(pos++);
        if (c == '}') {
          return result;
        }
        if (c != ',') {
          throw new IllegalArgumentException(
              "Malformed headers JSON at " + (pos - 1) + ": " + text);
        }
      }
    }

    private String string() {
      expect('"');
      StringBuilder out = new StringBuilder();
      while (true) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = text.charAt(pos++);
        switch (e) {
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'u' -> {
            out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
            pos += 4;
          }
          default -> out.append(e);
        }
      }
    }

    private char peek() {
      return text.charAt(pos);
    }

    private void expect(char c) {
      if (text.charAt(pos) != c) {
        throw new IllegalArgumentException(
            "Malformed headers JSON: expected '" + c + "' at " + pos + ": " + text);
      }
      pos++;
    }

    private void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }
  }
}
