package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path dir;

    /** A safetensors file with the given header text and data bytes. */
    private Path file(String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).put(data);
        Path f = dir.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(f, buf.array());
        return f;
    }

    private static byte[] floats(float... values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) buf.putFloat(v);
        return buf.array();
    }

    private static ModelFormatException rejects(Path f) {
        return assertThrows(ModelFormatException.class, () -> SafeTensors.open(f).close());
    }

    @Test
    void readsF32TensorsWithoutCopying() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"__metadata__\":{\"format\":\"pt\"}}",
                floats(1, 2, 3, 4));
        try (SafeTensors st = SafeTensors.open(f)) {
            Tensor a = st.tensor("a");
            assertArrayEquals(new long[]{2, 2}, a.shape());
            assertArrayEquals(new float[]{1, 2, 3, 4}, a.toFloatArray());
            assertEquals("pt", st.metadata().get("format"));
            assertTrue(a.data().isMapped(), "a view of the file mapping, not a copy");
        }
    }

    @Test
    void convertsHalfPrecisionOnRead() throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-2.25f));
        buf.putShort((short) (Float.floatToIntBits(3.0f) >>> 16)).putShort((short) (Float.floatToIntBits(-0.5f) >>> 16));
        Path f = file("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}", buf.array());
        try (SafeTensors st = SafeTensors.open(f)) {
            assertArrayEquals(new float[]{1.5f, -2.25f}, st.tensor("h").toFloatArray());
            assertArrayEquals(new float[]{3.0f, -0.5f}, st.tensor("b").toFloatArray());
        }
    }

    @Test
    void rejectsATruncatedFileNamingTheTensor() throws IOException {
        Path f = file("{\"weight\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", floats(1, 2));
        ModelFormatException e = rejects(f);
        assertTrue(e.getMessage().contains("weight") && e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void rejectsAHeaderLengthLargerThanTheFile() throws IOException {
        Path f = dir.resolve("huge-header.safetensors");
        ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
        Files.write(f, buf.array());
        assertTrue(rejects(f).getMessage().contains("header length"));
    }

    @Test
    void rejectsANegativeHeaderLength() throws IOException {
        Path f = dir.resolve("negative.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-8).putLong(0).array());
        assertTrue(rejects(f).getMessage().contains("header length"));
    }

    @Test
    void rejectsAFileShorterThanTheLengthPrefix() throws IOException {
        Path f = dir.resolve("tiny.safetensors");
        Files.write(f, new byte[]{1, 2, 3});
        assertTrue(rejects(f).getMessage().contains("too short"));
    }

    @Test
    void rejectsOverlappingOffsets() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", floats(1, 2, 3));
        ModelFormatException e = rejects(f);
        assertTrue(e.getMessage().contains("overlap") && e.getMessage().contains("'a'") && e.getMessage().contains("'b'"), e.getMessage());
    }

    @Test
    void rejectsAnUnknownDtype() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        ModelFormatException e = rejects(f);
        assertTrue(e.getMessage().contains("F17") && e.getMessage().contains("'a'"), e.getMessage());
    }

    @Test
    void acceptsForeignDtypesButRefusesToComputeWithThem() throws IOException {
        Path f = file("{\"position_ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", new byte[16]);
        try (SafeTensors st = SafeTensors.open(f)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.tensor("position_ids"));
            assertTrue(e.getMessage().contains("I64"), e.getMessage());
        }
    }

    @Test
    void rejectsAByteLengthThatDisagreesWithTheShape() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", floats(1, 2));
        ModelFormatException e = rejects(f);
        assertTrue(e.getMessage().contains("needs 12"), e.getMessage());
    }

    @Test
    void rejectsAShapeWhoseSizeOverflows() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", floats(1));
        assertTrue(rejects(f).getMessage().contains("overflows"));
    }

    @Test
    void rejectsMalformedJsonAndDuplicateNames() throws IOException {
        assertTrue(rejects(file("{\"a\":{\"dtype\":\"F32\",", new byte[0])).getMessage().contains("not valid JSON"));
        Path dup = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", floats(1, 2));
        assertTrue(rejects(dup).getMessage().contains("duplicate key \"a\""));
    }

    @Test
    void rejectsAHeaderThatIsNotUtf8() throws IOException {
        Path f = dir.resolve("latin1.safetensors");
        byte[] header = {'{', '"', (byte) 0xff, '"', ':', '1', '}', ' '};
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put(header).array());
        String message = rejects(f).getMessage();
        assertTrue(message.contains("header is not valid UTF-8 at line 1 (byte 2) of the header"), message);
    }

    @Test
    void namesTheMissingTensorAndSuggestsANearName() throws IOException {
        Path f = file("{\"bert.pooler.dense.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        try (SafeTensors st = SafeTensors.open(f)) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> st.tensor("roberta.pooler.dense.weight"));
            assertTrue(e.getMessage().contains("missing tensor 'roberta.pooler.dense.weight'"), e.getMessage());
            assertTrue(e.getMessage().contains("bert.pooler.dense.weight"), e.getMessage());
        }
    }

    @Test
    void readsShardsAsOneCheckpointNamingTheShardOfEachTensor() throws IOException {
        Path first = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"__metadata__\":{\"format\":\"pt\"}}",
                floats(1, 2));
        Path second = file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[4,12]}}", new byte[]{0, 0, (byte) 0x80, 0x40, 7, 0, 0, 0, 0, 0, 0, 0});
        Path index = dir.resolve("model.safetensors.index.json");
        try (SafeTensors st = SafeTensors.openShards(index, java.util.List.of(first, second))) {
            assertArrayEquals(new float[]{1, 2}, st.tensor("a").toFloatArray());
            assertArrayEquals(new float[]{4}, st.tensor("b").toFloatArray());
            assertTrue(st.tensor("b").data().isMapped(), "a view of the shard's mapping, not a copy");
            assertEquals(java.util.List.of("a", "b", "ids"), java.util.List.copyOf(st.names()));
            assertEquals(first, st.fileOf("a"));
            assertEquals(second, st.fileOf("ids"));
            assertEquals(index, st.file());
            assertEquals(java.util.List.of(first, second), st.shards());
            assertEquals(Files.size(first) + Files.size(second), st.byteSize());
            assertEquals("pt", st.metadata().get("format"));

            ModelFormatException foreign = assertThrows(ModelFormatException.class, () -> st.find("ids"));
            assertTrue(foreign.getMessage().startsWith(second + ": tensor 'ids' has dtype I64"), foreign.getMessage());
            assertEquals(7, st.raw("ids").orElseThrow().bytes().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 0));
            ModelFormatException missing = assertThrows(ModelFormatException.class, () -> st.tensor("c"));
            assertTrue(missing.getMessage().startsWith(index + ": missing tensor 'c' (its shards have 3 tensors"), missing.getMessage());
        }
    }

    @Test
    void refusesATensorInTwoShardsNamingBoth() throws IOException {
        Path first = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1));
        Path second = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(2));
        Path index = dir.resolve("model.safetensors.index.json");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SafeTensors.openShards(index, java.util.List.of(first, second)).close());
        assertEquals(index + ": tensor 'a' is in two shards, " + first + " and " + second, e.getMessage());
    }

    @Test
    void aCorruptShardNamesItselfAndUnmapsTheShardsBeforeIt() throws IOException {
        Path first = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1024],\"data_offsets\":[0,4096]}}", new byte[4096]);
        Path second = file("{\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", floats(1, 2));
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> SafeTensors.openShards(dir.resolve("index.json"), java.util.List.of(first, second)).close());
        assertTrue(e.getMessage().startsWith(second + ": tensor 'b'") && e.getMessage().contains("truncated"), e.getMessage());
        // Linux lists each mapping with its file: a shard left mapped would still be there
        Path maps = Path.of("/proc/self/maps");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(maps), "no /proc/self/maps to look for mappings in");
        assertFalse(Files.readString(maps).contains(first.toString()), first + " is still mapped");
    }

    @Test
    void shardsCannotBeReadAfterClose() throws IOException {
        Path first = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(7));
        Path second = file("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(8));
        SafeTensors st = SafeTensors.openShards(dir.resolve("index.json"), java.util.List.of(first, second));
        Tensor a = st.tensor("a"), b = st.tensor("b");
        st.close();
        assertThrows(IllegalStateException.class, () -> a.get(0));
        assertThrows(IllegalStateException.class, () -> b.get(0));
    }

    @Test
    void tensorsCannotBeReadAfterClose() throws IOException {
        Path f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", floats(7));
        SafeTensors st = SafeTensors.open(f);
        Tensor a = st.tensor("a");
        st.close();
        assertThrows(IllegalStateException.class, () -> a.get(0));
    }
}
