package dev.rerank4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsWriterTest {
    @TempDir
    Path dir;

    /** Parses a safetensors file's header the way the spec defines it (no reader in main code yet). */
    static Map<String, Object> header(byte[] file) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return Json.parseObject(new String(file, 8, (int) n, StandardCharsets.UTF_8));
    }

    static long headerLength(byte[] file) {
        return ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    @Test
    void writesAValidEightAlignedHeaderWithContiguousOffsets() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafeTensorsWriter()
                .metadata("format", "pt")
                .add("a", new long[] {3}, new float[] {1, 2, 3})
                .add("b.weight", new long[] {2, 2}, new float[] {4, 5, 6, 7})
                .add("h", DType.F16, new long[] {3}, MemorySegment.ofArray(new byte[6]))
                .add("empty", new long[] {0, 4}, new float[0])
                .write(file);

        byte[] bytes = Files.readAllBytes(file);
        long n = headerLength(bytes);
        assertEquals(0, (8 + n) % 8, "data section must start 8-aligned");
        Map<String, Object> header = header(bytes);
        assertEquals(Map.of("format", "pt"), header.get("__metadata__"));
        assertEquals(List.of("__metadata__", "a", "b.weight", "h", "empty"), List.copyOf(header.keySet()));

        long expectedStart = 0;
        for (String name : List.of("a", "b.weight", "h", "empty")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> info = (Map<String, Object>) header.get(name);
            List<?> offsets = (List<?>) info.get("data_offsets");
            assertEquals(expectedStart, offsets.get(0), name + " starts where the previous tensor ended");
            expectedStart = (Long) offsets.get(1);
        }
        assertEquals(8 + n + expectedStart, bytes.length, "no bytes after the last tensor");

        @SuppressWarnings("unchecked")
        Map<String, Object> b = (Map<String, Object>) header.get("b.weight");
        assertEquals("F32", b.get("dtype"));
        assertEquals(List.of(2L, 2L), b.get("shape"));
        ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int start = (int) (8 + n + 12);
        float[] values = new float[4];
        for (int i = 0; i < 4; i++) values[i] = data.getFloat(start + 4 * i);
        assertArrayEquals(new float[] {4, 5, 6, 7}, values);
        assertEquals("F16", ((Map<?, ?>) header.get("h")).get("dtype"));
    }

    @Test
    void computesLazyTensorsWhenWritten() throws IOException {
        Path file = dir.resolve("lazy.safetensors");
        int[] calls = {0};
        SafeTensorsWriter writer = new SafeTensorsWriter().add("x", DType.F32, new long[] {2}, () -> {
            calls[0]++;
            return MemorySegment.ofArray(new float[] {9, 8});
        });
        assertEquals(0, calls[0]);
        writer.write(file);
        assertEquals(1, calls[0]);
        byte[] bytes = Files.readAllBytes(file);
        long n = headerLength(bytes);
        assertEquals(8f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n + 4)));
    }

    @Test
    void writesAHeaderWithoutMetadataWhenNoneIsGiven() throws IOException {
        Path file = dir.resolve("plain.safetensors");
        new SafeTensorsWriter().add("a", new long[] {1}, new float[] {1}).write(file);
        Map<String, Object> header = header(Files.readAllBytes(file));
        assertEquals(List.of("a"), List.copyOf(header.keySet()));
    }

    @Test
    void rejectsBytesThatDoNotMatchTheShape() {
        SafeTensorsWriter writer = new SafeTensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> writer.add("a", new long[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class,
                () -> writer.add("b", DType.BF16, new long[] {2}, MemorySegment.ofArray(new byte[3])));
    }

    @Test
    void rejectsDuplicateAndReservedNames() {
        SafeTensorsWriter writer = new SafeTensorsWriter().add("a", new long[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> writer.add("a", new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> writer.add("__metadata__", new long[] {1}, new float[1]));
    }
}
