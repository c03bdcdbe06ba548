package dev.rerank4j.convert;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rerank4j.ChildJvm;
import dev.rerank4j.Golden;
import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Reranker;
import dev.rerank4j.io.AtomicFilesTest;
import dev.rerank4j.io.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fixtures from tools/make_torch_fixture.py (torch 2.15's torch.save and transformers' save_pretrained). */
class TorchCheckpointTest {
    private static final Path FIXTURES = Path.of("src/test/resources/torch");
    private static final Path BERT = Path.of("src/test/resources/golden/bert-tiny-ce");

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"mixed-p2", "mixed-p4", "mixed-legacy"})
    void writesEveryFloatTensorAsTorchStoredIt(String fixture) throws IOException {
        Path dir = copyOf(FIXTURES.resolve(fixture).resolve(TorchCheckpoint.FILE));
        Map<String, long[]> written = TorchCheckpoint.convert(dir);

        assertEquals(List.of("a.weight", "b.bias", "c.weight", "shared.whole", "shared.rows", "scalar"), List.copyOf(written.keySet()),
                "the int64 position_ids buffer is left out, the rest kept in the state dict's order");
        try (SafeTensors got = SafeTensors.open(dir.resolve("model.safetensors"));
             SafeTensors want = SafeTensors.open(FIXTURES.resolve("mixed-expected.safetensors"))) {
            assertEquals(want.names(), got.names());
            for (String name : want.names()) {
                SafeTensors.Raw g = got.raw(name).orElseThrow(), w = want.raw(name).orElseThrow();
                assertEquals(w.dtype(), g.dtype(), name);
                assertArrayEquals(w.shape(), g.shape(), name);
                assertArrayEquals(w.bytes().toArray(ValueLayout.JAVA_BYTE), g.bytes().toArray(ValueLayout.JAVA_BYTE), name);
            }
            assertEquals("pytorch_model.bin", got.metadata().get("converted_from"));
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("model.safetensors", "pytorch_model.bin"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void aConvertedSavePretrainedCheckpointScoresAsTheSafetensorsOne() throws IOException {
        Path dir = copyOf(FIXTURES.resolve("bert-tiny-ce").resolve(TorchCheckpoint.FILE));
        Golden.tinyCrossEncoderWithoutWeights(dir);
        TorchCheckpoint.convert(dir);

        try (SafeTensors got = SafeTensors.open(dir.resolve("model.safetensors"));
             SafeTensors want = SafeTensors.open(BERT.resolve("model.safetensors"))) {
            for (String name : want.names()) {
                assertArrayEquals(want.raw(name).orElseThrow().bytes().toArray(ValueLayout.JAVA_BYTE),
                        got.raw(name).orElseThrow().bytes().toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.", "");
        try (Reranker converted = Reranker.load(dir); Reranker original = Reranker.load(BERT)) {
            assertArrayEquals(original.score("how many people live in berlin?", docs), converted.score("how many people live in berlin?", docs));
        }
        // last: without POSIX permissions the check is skipped, the rest having run
        assertEquals(AtomicFilesTest.newFilePermissions(dir), Files.getPosixFilePermissions(dir.resolve("model.safetensors")),
                "readable as any file made there, not owner-only as a temporary file");
    }

    @Test
    void aColbertProjectionSavedWithTorchLoadsAsItsSafetensors() throws IOException {
        Path golden = Path.of("src/test/resources/golden/colbert-tiny"), model = tmp.resolve("colbert");
        try (Stream<Path> files = Files.walk(golden)) {
            for (Path f : files.toList()) Files.copy(f, model.resolve(golden.relativize(f).toString()));
        }
        Path dense = model.resolve("1_Dense");
        Files.delete(dense.resolve("model.safetensors"));
        Files.copy(FIXTURES.resolve("colbert-tiny-dense").resolve(TorchCheckpoint.FILE), dense.resolve(TorchCheckpoint.FILE));
        List<String> docs = List.of("Berlin has 3.7 million inhabitants.", "Paris is the capital of France.");
        float[] want;
        try (Reranker original = Reranker.load(golden)) {
            want = original.score("how many people live in berlin?", docs);
        }
        try (Reranker fromTorch = Reranker.load(model)) {
            assertArrayEquals(want, fromTorch.score("how many people live in berlin?", docs));
        }
        try (Stream<Path> files = Files.list(dense)) {
            assertEquals(List.of("config.json", "pytorch_model.bin"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "loading writes nothing beside the checkpoint");
        }
        TorchCheckpoint.convert(dense);
        try (Reranker converted = Reranker.load(model)) {
            assertArrayEquals(want, converted.score("how many people live in berlin?", docs));
        }
    }

    @Test
    void loadingThroughATemporaryCopyLeavesNoFileAndSaysWhereItCannotWrite() throws Exception {
        Path model = copyOf(FIXTURES.resolve("bert-tiny-ce").resolve(TorchCheckpoint.FILE));
        Golden.tinyCrossEncoderWithoutWeights(model);
        Path docs = Files.writeString(tmp.resolve("docs.txt"), "a b\nc\n");
        String[] args = {"--query", "q", "--docs", docs.toString(), "--model", model.toString(), "--raw"};
        Path tmpDir = Files.createDirectories(tmp.resolve("java-tmp"));
        ChildJvm.Result child = ChildJvm.run(List.of("-Djava.io.tmpdir=" + tmpDir, "--add-modules", "jdk.incubator.vector"),
                dev.rerank4j.cli.Main.class, Duration.ofSeconds(60), args);
        assertEquals(0, child.exitCode(), child.all());
        assertTrue(child.err().contains("through a safetensors copy in " + tmpDir), child.err());
        try (Stream<Path> left = Files.list(tmpDir)) {
            assertEquals(List.of(), left.toList(), "the copy is deleted once mapped");
        }

        ChildJvm.Result noTmp = ChildJvm.run(List.of("-Djava.io.tmpdir=" + tmp.resolve("absent"), "--add-modules", "jdk.incubator.vector"),
                dev.rerank4j.cli.Main.class, Duration.ofSeconds(60), args);
        assertEquals(1, noTmp.exitCode(), noTmp.all());
        assertTrue(noTmp.err().contains("cannot write its safetensors copy in " + tmp.resolve("absent")), noTmp.err());
    }

    /**
     * Damaged checkpoints (the pickle inside the zip, the zip's own bytes, the legacy file, mostly its pickles: cut short,
     * a byte changed, bytes inserted) convert or fail with a ModelFormatException: never another exception or a hang.
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void damagedCheckpointsConvertOrFailWithAClearError() throws IOException {
        java.util.Random random = new java.util.Random(1001);
        Map<String, Integer> outcomes = new java.util.TreeMap<>();
        List<String> unexpected = new java.util.ArrayList<>();
        List<Path> sources = List.of(FIXTURES.resolve("mixed-p2").resolve(TorchCheckpoint.FILE), FIXTURES.resolve("mixed-p4").resolve(TorchCheckpoint.FILE),
                FIXTURES.resolve("bert-tiny-ce").resolve(TorchCheckpoint.FILE), FIXTURES.resolve("mixed-legacy").resolve(TorchCheckpoint.FILE));
        for (int trial = 0; trial < 800; trial++) {
            Path source = sources.get(random.nextInt(sources.size()));
            boolean legacy = source.getParent().getFileName().toString().equals("mixed-legacy");
            int target = legacy ? 0 : random.nextInt(2); // 0: the file's own bytes, 1: the pickle inside the zip
            Path dir;
            String how;
            if (target == 1) {
                String[] said = new String[1];
                dir = rewritten(source, name -> name.endsWith("/data.pkl") ? bytes -> {
                    byte[] damaged = damaged(bytes, random, bytes.length);
                    said[0] = "data.pkl " + damaged.length + " bytes";
                    return damaged;
                } : null);
                how = said[0];
            } else {
                byte[] bytes = Files.readAllBytes(source);
                dir = Files.createTempDirectory(tmp, "damaged");
                byte[] damaged = damaged(bytes, random, legacy ? 700 : bytes.length);
                Files.write(dir.resolve(TorchCheckpoint.FILE), damaged);
                how = "file " + damaged.length + " bytes";
            }
            String outcome;
            try {
                TorchCheckpoint.convert(dir);
                outcome = "converted";
            } catch (ModelFormatException e) {
                outcome = "ModelFormatException";
            } catch (IOException | RuntimeException | Error e) {
                outcome = "unexpected";
                unexpected.add(source.getParent().getFileName() + ", " + how + ": " + e);
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        assertEquals(List.of(), unexpected);
        assertTrue(outcomes.getOrDefault("ModelFormatException", 0) > 50 && outcomes.getOrDefault("converted", 0) > 10,
                "both outcomes are exercised: " + outcomes);
    }

    /** {@code bytes} cut short, with a byte changed or with bytes inserted, within its first {@code span} bytes. */
    private static byte[] damaged(byte[] bytes, java.util.Random random, int span) {
        int at = random.nextInt(Math.min(span, bytes.length));
        switch (random.nextInt(3)) {
            case 0 -> {
                return java.util.Arrays.copyOf(bytes, at);
            }
            case 1 -> {
                byte[] out = bytes.clone();
                out[at] = (byte) random.nextInt(256);
                return out;
            }
            default -> {
                byte[] inserted = new byte[1 + random.nextInt(8)];
                random.nextBytes(inserted);
                return concat(java.util.Arrays.copyOf(bytes, at), inserted, java.util.Arrays.copyOfRange(bytes, at, bytes.length));
            }
        }
    }

    @Test
    void refusesAPickleThatCallsAnythingButTensorBuilders() throws IOException {
        // GLOBAL posix.system, the string "echo owned", TUPLE1, REDUCE, STOP: what a malicious pickle does
        byte[] pickle = concat(bytes(0x80, 2), ascii("cposix\nsystem\n"), shortString("echo owned"), bytes(0x85, 'R', '.'));
        Path dir = checkpoint(pickle, Map.of());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(dir));
        assertTrue(e.getMessage().contains("posix.system") && e.getMessage().contains("runs none"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
    }

    @Test
    void refusesTruncatedAndUnknownPickles() throws IOException {
        byte[] full = pickleOf(FIXTURES.resolve("mixed-p2").resolve(TorchCheckpoint.FILE));
        byte[] cut = java.util.Arrays.copyOf(full, full.length / 2);
        ModelFormatException truncated = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(checkpoint(cut, Map.of())));
        assertTrue(truncated.getMessage().contains("ends before its STOP"), truncated.getMessage());

        byte[] inst = concat(bytes(0x80, 2), ascii("iposix\nsystem\n"), bytes('.')); // INST, the protocol-0 way to call
        ModelFormatException unknown = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(checkpoint(inst, Map.of())));
        assertTrue(unknown.getMessage().contains("opcode 0x69"), unknown.getMessage());

        byte[] list = bytes(0x80, 2, ']', '.');
        ModelFormatException notADict = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(checkpoint(list, Map.of())));
        assertTrue(notADict.getMessage().contains("not a state dict"), notADict.getMessage());
    }

    @Test
    void refusesTensorsLargerThanAnyFile() throws IOException {
        // {"w": _rebuild_tensor_v2(storage "0" of 4 floats, 0, (2^62, 2^62), (2^62, 1), False, OrderedDict())}
        byte[] huge = concat(bytes(0x8a, 8), bytes(0, 0, 0, 0, 0, 0, 0, 0x40));
        byte[] pickle = concat(bytes(0x80, 2, '}', '('), shortString("w"), ascii("ctorch._utils\n_rebuild_tensor_v2\n"), bytes('(', '('),
                shortString("storage"), ascii("ctorch\nFloatStorage\n"), shortString("0"), shortString("cpu"), bytes('K', 4, 't', 'Q', 'K', 0),
                bytes('('), huge, huge, bytes('t', '('), huge, bytes('K', 1, 't', 0x89), ascii("ccollections\nOrderedDict\n"),
                bytes(')', 'R', 't', 'R', 'u', '.'));
        Path dir = checkpoint(pickle, Map.of("0", new byte[16]));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(dir));
        assertTrue(e.getMessage().contains("too large for any file"), e.getMessage());
    }

    @Test
    void refusesAStorageEntryThatDeclaresMoreThanItsBytesCanHold() throws IOException {
        // a tensor of 2^29 floats (2 GiB) whose storage entry holds 1 MB of zeros deflated to about 1 KB, its central
        // directory then made to declare the 2 GiB: the reader allocates a tensor before reading it
        Path dir = checkpoint(tensorPickle("w", "ctorch\nFloatStorage\n", 0, 1L << 29), Map.of("0", new byte[1 << 20]));
        Path bin = dir.resolve(TorchCheckpoint.FILE);
        Files.write(bin, declaringSize(Files.readAllBytes(bin), "archive/data/0", 1L << 31));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(dir));
        assertTrue(e.getMessage().contains("storage entry archive/data/0 declares 2147483648 bytes") && e.getMessage().contains("forged"),
                e.getMessage());
    }

    @Test
    void refusesPicklesPythonWouldRefuseWithoutOverflowingTheStack() throws IOException {
        Map<String, byte[]> storage = Map.of("0", new byte[32]);
        byte[] notAStorage = tensorPickle("w", "ccollections\nOrderedDict\n", 0, 8);
        assertRefused(checkpoint(notAStorage, storage), "a persistent id that is not a torch storage: ('storage', collections.OrderedDict");

        // {[l]: None} where l holds itself: Python cannot hash a list
        byte[] selfKey = bytes(0x80, 2, '}', ']', 'q', 0, 'h', 0, 'a', 'N', 's', '.');
        assertRefused(checkpoint(selfKey, Map.of()), "a dict key that Python cannot hash: [[[[…]]]]");

        // {"w": a = [b], b = [a]}
        byte[] cycle = concat(bytes(0x80, 2, '}'), shortString("w"), bytes(']', 'q', 0, ']', 'q', 1, 'h', 0, 'a', 'a', 's', '.'));
        assertRefused(checkpoint(cycle, Map.of()), "the state dict maps 'w' to [[[[…]]]], not a name to a tensor");

        // {"w": [[[…]]]} nested 200,000 deep
        int depth = 200_000;
        byte[] deep = concat(bytes(0x80, 2, '}'), shortString("w"), repeat(']', depth), repeat('a', depth - 1), bytes('s', '.'));
        assertRefused(checkpoint(deep, Map.of()), "the state dict maps 'w' to [[[[…]]]], not a name to a tensor");
    }

    @Test
    void refusesATensorBeforeItsStorageAndANameSafetensorsCannotHold() throws IOException {
        Map<String, byte[]> storage = Map.of("0", new byte[32]);
        // LONG1 of one byte 0xfe: −2
        assertRefused(checkpoint(tensorPickle("w", "ctorch\nFloatStorage\n", -2, 8), storage), "a tensor at element -2 of its storage");
        assertRefused(checkpoint(tensorPickle("", "ctorch\nFloatStorage\n", 0, 8), storage), "a tensor named \"\"");
        assertRefused(checkpoint(tensorPickle("__metadata__", "ctorch\nFloatStorage\n", 0, 8), storage), "a tensor named \"__metadata__\"");
    }

    /** The conversion of {@code dir} fails with a message naming its file and saying {@code why}, and writes nothing. */
    private static void assertRefused(Path dir, String why) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(dir));
        assertTrue(e.getMessage().contains(dir.resolve(TorchCheckpoint.FILE).toString()) && e.getMessage().contains(why), e.getMessage());
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
    }

    /**
     * {name: _rebuild_tensor_v2((storage, {@code storageGlobal}, "0", "cpu", elements), offset, (elements,), (1,), False,
     * OrderedDict())}, the offset a LONG1.
     */
    private static byte[] tensorPickle(String name, String storageGlobal, long offset, long elements) {
        return concat(bytes(0x80, 2, '}', '('), shortString(name), ascii("ctorch._utils\n_rebuild_tensor_v2\n"), bytes('(', '('),
                shortString("storage"), ascii(storageGlobal), shortString("0"), shortString("cpu"), long1(elements), bytes('t', 'Q'),
                long1(offset), bytes('('), long1(elements), bytes('t', '(', 'K', 1, 't', 0x89), ascii("ccollections\nOrderedDict\n"),
                bytes(')', 'R', 't', 'R', 'u', '.'));
    }

    private static byte[] long1(long v) {
        byte[] b = new byte[10];
        b[0] = (byte) 0x8a;
        b[1] = 8;
        for (int i = 0; i < 8; i++) b[2 + i] = (byte) (v >>> (8 * i));
        return b;
    }

    private static byte[] repeat(char op, int times) {
        byte[] b = new byte[times];
        java.util.Arrays.fill(b, (byte) op);
        return b;
    }

    /** {@code zip} with the central directory's uncompressed size of {@code entry} set to {@code size} (below 2^32). */
    private static byte[] declaringSize(byte[] zip, String entry, long size) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(zip).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] name = ascii(entry);
        for (int at = 0; at + 46 + name.length <= zip.length; at++) {
            if (b.getInt(at) == 0x02014b50 && (b.getShort(at + 28) & 0xffff) == name.length
                    && java.util.Arrays.equals(zip, at + 46, at + 46 + name.length, name, 0, name.length)) {
                b.putInt(at + 24, (int) size);
                return zip;
            }
        }
        throw new IllegalStateException("no central directory entry " + entry);
    }

    @Test
    void refusesStoragesThatDoNotHoldTheirTensors() throws IOException {
        Path source = FIXTURES.resolve("mixed-p2").resolve(TorchCheckpoint.FILE);
        // a.weight's storage (data/0, 12 floats) cut to 40 bytes
        Path shortStorage = rewritten(source, name -> name.endsWith("/data/0") ? bytes -> java.util.Arrays.copyOf(bytes, 40) : null);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(shortStorage));
        assertTrue(e.getMessage().contains("holds 40 bytes, not 48"), e.getMessage());
        try (Stream<Path> files = Files.list(shortStorage)) {
            assertEquals(1, files.count(), "a refused conversion leaves nothing beside the checkpoint");
        }
        Path missing = rewritten(source, name -> name.endsWith("/data/3") ? bytes -> null : null);
        ModelFormatException gone = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(missing));
        assertTrue(gone.getMessage().contains("storage 3 is missing"), gone.getMessage());
    }

    @Test
    void refusesALegacyCheckpointWhoseStoragesRunPastItsEnd() throws IOException {
        byte[] file = Files.readAllBytes(FIXTURES.resolve("mixed-legacy").resolve(TorchCheckpoint.FILE));
        Path cut = Files.createDirectories(tmp.resolve("cut"));
        Files.write(cut.resolve(TorchCheckpoint.FILE), java.util.Arrays.copyOf(file, file.length - 4));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(cut));
        assertTrue(e.getMessage().contains("past the file's end"), e.getMessage());
        try (Stream<Path> files = Files.list(cut)) {
            assertEquals(1, files.count(), "a refused conversion leaves nothing beside the checkpoint");
        }
    }

    @Test
    void explainsOtherFiles() throws IOException {
        Path text = Files.createDirectories(tmp.resolve("text"));
        Files.writeString(text.resolve(TorchCheckpoint.FILE), "version https://git-lfs.github.com/spec/v1\n");
        ModelFormatException lfs = assertThrows(ModelFormatException.class, () -> TorchCheckpoint.convert(text));
        assertTrue(lfs.getMessage().contains("not a PyTorch checkpoint"), lfs.getMessage());

        Path none = Files.createDirectories(tmp.resolve("none"));
        assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.convert(none));
        Path both = copyOf(FIXTURES.resolve("mixed-p2").resolve(TorchCheckpoint.FILE));
        Files.writeString(both.resolve("model.safetensors"), "kept");
        assertThrows(IllegalArgumentException.class, () -> TorchCheckpoint.convert(both));
        assertEquals("kept", Files.readString(both.resolve("model.safetensors")));
    }

    private Path copyOf(Path bin) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "model");
        Files.copy(bin, dir.resolve(TorchCheckpoint.FILE));
        return dir;
    }

    /** A torch.save-shaped zip holding {@code pickle} as archive/data.pkl and the given storages. */
    private Path checkpoint(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "crafted");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(dir.resolve(TorchCheckpoint.FILE)))) {
            put(zip, "archive/data.pkl", pickle);
            for (Map.Entry<String, byte[]> e : storages.entrySet()) put(zip, "archive/data/" + e.getKey(), e.getValue());
        }
        return dir;
    }

    /** A copy of {@code source} whose entries {@code edit} maps to a change (null: kept; a change to null: dropped). */
    private Path rewritten(Path source, java.util.function.Function<String, UnaryOperator<byte[]>> edit) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "edited");
        try (ZipFile in = new ZipFile(source.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(dir.resolve(TorchCheckpoint.FILE)))) {
            for (ZipEntry e : in.stream().toList()) {
                byte[] data;
                try (InputStream entry = in.getInputStream(e)) {
                    data = entry.readAllBytes();
                }
                UnaryOperator<byte[]> change = edit.apply(e.getName());
                if (change != null) data = change.apply(data);
                if (data != null) put(out, e.getName(), data);
            }
        }
        return dir;
    }

    private static byte[] pickleOf(Path bin) throws IOException {
        try (ZipFile zip = new ZipFile(bin.toFile())) {
            for (ZipEntry e : zip.stream().toList()) {
                if (e.getName().endsWith("/data.pkl")) {
                    try (InputStream in = zip.getInputStream(e)) {
                        return in.readAllBytes();
                    }
                }
            }
        }
        throw new IllegalStateException("no data.pkl in " + bin);
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(data);
        zip.closeEntry();
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) values[i];
        return b;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] shortString(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        return concat(bytes(0x8c, utf8.length), utf8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }
}
