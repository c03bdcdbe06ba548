package dev.rerank4j.io;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesEveryValueKind() {
        Map<String, Object> m = Json.parseObject("{\"a\": [1, -2.5e3, true, false, null], \"b\": {\"c\": \"x\\u00e9\\n\"}}");
        assertEquals(List.of(1L, -2500.0, true, false), ((List<?>) m.get("a")).subList(0, 4));
        assertNull(((List<?>) m.get("a")).get(4));
        assertEquals("xé\n", ((Map<?, ?>) m.get("b")).get("c"));
    }

    @Test
    void keepsSurrogatePairsFromEscapes() {
        assertEquals("😀", Json.parse("\"\\ud83d\\ude00\""));
    }

    @Test
    void rejectsMalformedText() {
        for (String bad : new String[]{"{", "[1,]", "{\"a\" 1}", "01", "\"\\x\"", "tru", "[1] 2", "\"a\nb\"", "-", "1.", "1e"}) {
            assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void rejectsNestingDeepEnoughToOverflowTheStack() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting"));
    }

    @Test
    void writesWhatItReads() {
        String text = "{\"index\": 3, \"score\": 0.25, \"text\": \"a \\\"quoted\\\" line\\twith tab\", \"list\": [true, null]}";
        assertEquals(text, Json.write(Json.parse(text)));
    }

    @Test
    void writesFloatsInShortestForm() {
        assertEquals("[0.1, 8.607138]", Json.write(List.of(0.1f, 8.607138f)));
    }
}
