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

  /**
   * Decodes a JSON object whose values are all strings, as PostgreSQL prints jsonb.
   *
   * @throws IllegalArgumentException naming what is wrong, for anything else (another writer may
   *     store any JSON value in the column when the table's constraint is missing)
   */
  static Map<String, String> decode(String json) {
    if (json == null) {
      throw new IllegalArgumentException("headers is null; expected a JSON object of strings");
    }
    Parser parser = new Parser(json);
    try {
      Map<String, String> result = parser.object();
      parser.skipSpace();
      if (parser.pos != json.length()) {
        throw parser.malformed("unexpected text after the object");
      }
      return result;
    } catch (IndexOutOfBoundsException ex) {
      throw parser.malformed("unexpected end");
    }
  }

  private static final class Parser {
    private static final int SHOWN_CHARS = 200;

    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    Map<String, String> object() {
      Map<String, String> result = new LinkedHashMap<>();
      skipSpace();
      expect('{', "a JSON object of strings");
      skipSpace();
      if (peek() == '}') {
        pos++;
        return result;
      }
      while (true) {
        skipSpace();
        String key = string("a header name");
        skipSpace();
        expect(':', "':'");
        skipSpace();
        result.put(key, string("a string value for header '" + key + "'"));
        skipSpace();
        char c = text.charAt(pos++);
        if (c == '}') {
          return result;
        }
        if (c != ',') {
          pos--;
          throw malformed("expected ',' or '}'");
        }
      }
    }

    private String string(String expected) {
      expect('"', expected);
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
            String hex = text.substring(pos, pos + 4);
            try {
              out.append((char) Integer.parseInt(hex, 16));
            } catch (NumberFormatException ex) {
              throw malformed("invalid escape \\u" + hex);
            }
            pos += 4;
          }
          default -> out.append(e);
        }
      }
    }

    private char peek() {
      return text.charAt(pos);
    }

    private void expect(char c, String expected) {
      if (pos >= text.length() || text.charAt(pos) != c) {
        throw malformed("expected " + expected);
      }
      pos++;
    }

    void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    IllegalArgumentException malformed(String problem) {
      String shown = text.length() > SHOWN_CHARS ? text.substring(0, SHOWN_CHARS) + "..." : text;
      return new IllegalArgumentException(
          "headers is not a JSON object of strings: "
              + problem
              + " at offset "
              + Math.min(pos, text.length())
              + " of "
              + shown);
    }
  }
}
