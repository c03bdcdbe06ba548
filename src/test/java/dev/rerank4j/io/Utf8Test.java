package dev.rerank4j.io;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Utf8Test {
    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    private static byte[] concat(String before, byte[] bad) {
        byte[] head = before.getBytes(StandardCharsets.UTF_8), all = new byte[head.length + bad.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(bad, 0, all, head.length, bad.length);
        return all;
    }

    @Test
    void decodesEveryLengthOfSequence() throws Utf8.MalformedException {
        String text = "a é € 😀 中文\r\nend";
        assertEquals(text, Utf8.decode(text.getBytes(StandardCharsets.UTF_8)));
        assertEquals("", Utf8.decode(new byte[0]));
    }

    @Test
    void saysOnWhichLineAndByteTheFirstBadBytesAre() {
        // lines end in \n, \r\n and \r; each counts once
        byte[] b = concat("é one\ntwo\r\nthree\rfour ", bytes(0xE9, 'x'));
        Utf8.MalformedException e = assertThrows(Utf8.MalformedException.class, () -> Utf8.decode(b));
        assertEquals(3, e.line());
        assertEquals("é one\ntwo\r\nthree\rfour ".getBytes(StandardCharsets.UTF_8).length, e.offset());
        assertEquals("not valid UTF-8 at line 4 (byte " + e.offset() + ")", e.getMessage());
    }

    @Test
    void refusesWhatLenientDecodersLetThrough() {
        byte[][] bad = {
            bytes(0xC0, 0x80),             // overlong NUL
            bytes(0xED, 0xA0, 0x80),       // a UTF-16 surrogate
            bytes(0xF4, 0x90, 0x80, 0x80), // past U+10FFFF
            bytes(0xE2, 0x82),             // cut off at the end
            bytes(0x80),                   // a lone continuation byte
        };
        for (byte[] b : bad) {
            Utf8.MalformedException e = assertThrows(Utf8.MalformedException.class, () -> Utf8.decode(concat("ok\n", b)));
            assertEquals(1, e.line());
            assertEquals(3, e.offset());
        }
    }
}
