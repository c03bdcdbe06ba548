package dev.rerank4j.cli;

import dev.rerank4j.ChildJvm;
import dev.rerank4j.Golden;
import dev.rerank4j.hub.FakeHub;
import dev.rerank4j.hub.HuggingFaceHub;
import dev.rerank4j.io.Json;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    @TempDir
    Path tmp;

    private record Result(int code, String out, String err) {}

    /** Runs the CLI with the hub offline and its cache empty: no test reaches the network. */
    private Result run(String... args) {
        return run(new HuggingFaceHub.Settings(URI.create("http://127.0.0.1:9"), tmp.resolve("hub-cache"), null, true, Duration.ofSeconds(5)), args);
    }

    private static Result run(HuggingFaceHub.Settings hub, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), () -> hub);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void inspectSaysWhatRerank4jDoesWithTheModelAndWhichFileDecided() {
        String model = Golden.path("bert-tiny-ce").toString();
        Result table = run("inspect", "--model", model, "--backend", "cpu");
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("kind        cross-encoder; score = logit"), table.out());
        assertTrue(table.out().contains("encoder     bert, 2 layers, hidden 32, 4 heads, intermediate 64, vocab 1200"), table.out());
        assertTrue(table.out().contains("max length  64 tokens (" + Path.of(model, "tokenizer_config.json") + ": model_max_length)"), table.out());
        assertTrue(table.out().contains("pairs cut   longest first"), table.out());
        Map<String, Object> json = Json.parseObject(run("inspect", "--model", model, "--max-length", "32", "--json").out());
        assertEquals("32 tokens (the maxLength asked for (Options.withMaxLength, --max-length))", json.get("max length"));
        assertEquals(List.of("model", "kind", "encoder", "weights", "tokenizer", "max length", "pairs cut", "backend"), List.copyOf(json.keySet()));
        assertEquals("tokenizer.json", json.get("tokenizer"));
        Map<String, Object> raw = Json.parseObject(run("inspect", "--model", model, "--raw", "--threads", "1", "--json").out());
        assertTrue(((String) raw.get("kind")).contains("score = logit"), "inspect takes the scoring options: " + raw);
        Map<String, Object> sigmoid = Json.parseObject(run("inspect", "--model", model, "--sigmoid", "--json").out());
        assertTrue(((String) sigmoid.get("kind")).contains("score = sigmoid(logit)"), sigmoid.toString());
        Result instruction = run("inspect", "--model", model, "--instruction", "find it");
        assertEquals(1, instruction.code());
        assertTrue(instruction.err().contains("not an instruction-following reranker"), instruction.err());
        Map<String, Object> colbert = Json.parseObject(run("inspect", "--model", Golden.path("colbert-tiny").toString(), "--json").out());
        assertEquals("60 tokens (ColBERT's document_length); queries 32 tokens", colbert.get("max length"));
        assertTrue(!colbert.containsKey("pairs cut"));
    }

    @Test
    void aModelIdThatIsNoDirectoryComesFromTheHubsCacheOrTheHub() throws IOException {
        Path docs = docs("Berlin has 3.7 million inhabitants.", "Paris is in France.");
        Result direct = run("--query", "berlin", "--docs", docs.toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--json");
        try (FakeHub hub = new FakeHub().serve(Golden.path("bert-tiny-ce"), Map.of())) {
            HuggingFaceHub.Settings online = new HuggingFaceHub.Settings(hub.endpoint(), tmp.resolve("cache"), null, false, Duration.ofSeconds(5));
            Result fetched = run(online, "--query", "berlin", "--docs", docs.toString(), "--model", "owner/model", "--json");
            assertEquals(0, fetched.code(), fetched.err());
            assertEquals(direct.out(), fetched.out());
        }
        HuggingFaceHub.Settings offline = new HuggingFaceHub.Settings(URI.create("http://127.0.0.1:9"), tmp.resolve("cache"), null, true, Duration.ofSeconds(5));
        assertEquals(direct.out(), run(offline, "--query", "berlin", "--docs", docs.toString(), "--model", "owner/model", "--json").out());

        Result missing = run("--query", "berlin", "--docs", docs.toString(), "--model", "no/such");
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("--model no/such: no such directory, and as a Hugging Face model id: HF_HUB_OFFLINE is set"), missing.err());
    }

    private Path docs(String... lines) throws IOException {
        Path f = tmp.resolve("docs.txt");
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    @Test
    void jsonOutputIsSortedByScoreWithLineIndicesAndTexts() throws IOException {
        Path docs = docs("berlin has museums", "", "paris is in france", "the wall fell in 1989");
        Result r = run("--query", "berlin wall", "--docs", docs.toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--json");
        assertEquals(0, r.code(), r.err());
        List<?> items = (List<?>) Json.parse(r.out().trim());
        assertEquals(3, items.size(), "the blank line is not a document");
        double previous = Double.POSITIVE_INFINITY;
        for (Object o : items) {
            Map<?, ?> item = (Map<?, ?>) o;
            assertEquals(List.of("index", "score", "text"), List.copyOf(item.keySet()));
            double score = ((Number) item.get("score")).doubleValue();
            assertTrue(score <= previous, "sorted by score, highest first");
            previous = score;
            long index = (Long) item.get("index");
            assertEquals(Files.readAllLines(docs).get((int) index), item.get("text"), "index is the line in FILE");
        }
    }

    /** {@code score --pairs}: one score per non-blank line, in the file's order, as Reranker.score(List<Pair>) gives it. */
    @Test
    void scoresEachLinesPairInTheFilesOrder() throws IOException {
        Path pairs = docs("where is berlin\tberlin has museums", "", "paris\tparis is in france\twith a tab", "where is berlin\tthe wall fell in 1989");
        float[] expected;
        try (dev.rerank4j.Reranker reranker = dev.rerank4j.Reranker.load(Golden.path("bert-tiny-ce"))) {
            expected = reranker.score(List.of(new dev.rerank4j.Pair("where is berlin", "berlin has museums"),
                    new dev.rerank4j.Pair("paris", "paris is in france\twith a tab"),
                    new dev.rerank4j.Pair("where is berlin", "the wall fell in 1989")));
        }
        Result plain = run("score", "--pairs", pairs.toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(0, plain.code(), plain.err());
        List<String> lines = plain.out().lines().toList();
        assertEquals(3, lines.size(), plain.out());
        int[] indices = {0, 2, 3};
        for (int i = 0; i < 3; i++) {
            String[] fields = lines.get(i).split("\t");
            assertEquals(String.valueOf(indices[i]), fields[0], "the line's index in the file");
            assertEquals(expected[i], Float.parseFloat(fields[1]), 1e-5f, lines.get(i));
        }
        Result json = run("score", "--pairs", pairs.toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--json", "--sigmoid");
        assertEquals(0, json.code(), json.err());
        List<?> items = (List<?>) Json.parse(json.out().trim());
        assertEquals(3, items.size());
        for (int i = 0; i < 3; i++) {
            Map<?, ?> item = (Map<?, ?>) items.get(i);
            assertEquals(List.of("index", "score"), List.copyOf(item.keySet()));
            assertEquals((long) indices[i], item.get("index"));
            assertEquals(1 / (1 + Math.exp(-expected[i])), ((Number) item.get("score")).doubleValue(), 1e-5, "--sigmoid applies");
        }
        Result noTab = run("score", "--pairs", docs("query\tdoc", "no tab here").toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(1, noTab.code());
        assertTrue(noTab.err().contains("line 2 (index 1) has no tab"), noTab.err());
        Result noPairs = run("score", "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(2, noPairs.code());
        assertTrue(noPairs.err().contains("--pairs is required"), noPairs.err());
    }

    @Test
    void tableOutputHonoursTop() throws IOException {
        Result r = run("--query", "berlin", "--docs", docs("a", "b", "c").toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--top", "2");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(3, lines.size(), r.out());
        assertTrue(lines.get(0).contains("rank") && lines.get(1).trim().startsWith("1"), r.out());
    }

    @Test
    void tableOutputShowsControlCharactersAsReplacementsAndJsonKeepsThem() throws IOException {
        String model = Golden.path("bert-tiny-ce").toString();
        Path f = docs("red \u001b[2Jalert\u0007 \u0000end \u202Eevil\u2066");
        Result table = run("--query", "q", "--docs", f.toString(), "--model", model);
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("red \uFFFD[2Jalert\uFFFD \uFFFDend \uFFFDevil\uFFFD"), table.out());
        assertEquals(0, table.out().chars().filter(c -> Character.isISOControl(c) && c != '\n').count(), table.out());
        Result json = run("--query", "q", "--docs", f.toString(), "--model", model, "--json");
        assertEquals(0, json.code(), json.err());
        assertEquals("red \u001b[2Jalert\u0007 \u0000end \u202Eevil\u2066", ((Map<?, ?>) ((List<?>) Json.parse(json.out())).getFirst()).get("text"));
    }

    /** Scores print with a decimal point whatever the JVM's locale, so that scripts reading the table read them alike. */
    @Test
    void tableScoresDoNotFollowTheLocale() throws IOException {
        java.util.Locale before = java.util.Locale.getDefault();
        java.util.Locale.setDefault(java.util.Locale.GERMANY);
        try {
            Result r = run("--query", "berlin", "--docs", docs("a", "b").toString(), "--model", Golden.path("bert-tiny-ce").toString());
            assertEquals(0, r.code(), r.err());
            String score = r.out().lines().skip(1).findFirst().orElseThrow().trim().split("\\s+")[1];
            assertTrue(score.matches("-?\\d+\\.\\d{4}"), r.out());
        } finally {
            java.util.Locale.setDefault(before);
        }
    }

    @Test
    void backendIsChosenByNameAndAnUnknownOneIsAUsageError() throws IOException {
        String model = Golden.path("bert-tiny-ce").toString();
        Result cpu = run("--query", "berlin", "--docs", docs("a", "b").toString(), "--model", model, "--backend", "CPU");
        assertEquals(0, cpu.code(), cpu.err());
        Result unknown = run("--query", "berlin", "--docs", docs("a").toString(), "--model", model, "--backend", "gpu");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("--backend: expected auto, cpu or cuda, not gpu"), unknown.err());
    }

    @Test
    void cudaWithoutAGpuExitsWithOneAndSaysWhatIsMissing() throws IOException {
        dev.rerank4j.backend.cuda.CudaProbe.Result probe = dev.rerank4j.backend.cuda.CudaProbe.probe();
        org.junit.jupiter.api.Assumptions.assumeFalse(probe.usable(), () -> "a usable GPU is present: " + probe.description());
        Result r = run("--query", "berlin", "--docs", docs("a").toString(), "--model", Golden.path("bert-tiny-ce").toString(),
                "--backend", "cuda");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("rerank: the CUDA backend was requested but cannot be used: "), r.err());
    }

    @Test
    void usageErrorsExitWithTwoAndSayWhatIsWrong() {
        Result missing = run("--docs", "x.txt");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--query is required"), missing.err());
        Result unknown = run("--query", "q", "--docs", "x", "--frobnicate");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown argument '--frobnicate'"));
        assertEquals(2, run("--query", "q", "--docs", "x", "--top", "zero").code());
    }

    @Test
    void helpIsAnArgumentNameNotAValue() throws IOException {
        Result help = run("--docs", "x.txt", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().startsWith("usage"), help.out());
        for (String option : List.of("--query", "--docs", "--top", "--model", "--json", "--max-length", "--sigmoid | --raw",
                "--instruction", "--threads", "--batch-size", "--backend", "--onnx", "--tokenizer", "--pytorch")) {
            assertTrue(help.out().contains("\n  " + option + " "), "--help describes " + option);
        }
        assertTrue(help.out().contains("default: 32"), "the batch size's default");
        assertEquals(0, run("convert", "-h").code());
        Result queryIsDashH = run("--query", "-h", "--docs", docs("a", "b").toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--json");
        assertEquals(0, queryIsDashH.code(), queryIsDashH.err());
        assertTrue(queryIsDashH.out().startsWith("[{\"index\""), queryIsDashH.out());
    }

    @Test
    void aPytorchOnlyModelRanksAsItsSafetensorsBeforeAndAfterConversion() throws IOException {
        Path model = Golden.tinyCrossEncoderWithoutWeights(tmp.resolve("pytorch-only"));
        Path golden = Golden.path("bert-tiny-ce");
        Files.copy(Path.of("src/test/resources/torch/bert-tiny-ce/pytorch_model.bin"), model.resolve("pytorch_model.bin"));
        Result original = run("--query", "q", "--docs", docs("a b", "c").toString(), "--model", golden.toString(), "--raw");
        String[] rank = {"--query", "q", "--docs", docs("a b", "c").toString(), "--model", model.toString(), "--raw"};
        Result before = run(rank);
        assertEquals(0, before.code(), before.err());
        assertEquals(original.out(), before.out());

        assertEquals(2, run("convert", "--pytorch", model.toString(), "--out", tmp.resolve("x").toString()).code());
        Result convert = run("convert", "--pytorch", model.toString());
        assertEquals(0, convert.code(), convert.err());
        assertEquals("wrote " + model.resolve("model.safetensors") + " (41 tensors)", convert.out().strip());
        Result after = run(rank);
        assertEquals(0, after.code(), after.err());
        assertEquals(original.out(), after.out());

        Files.delete(model.resolve("pytorch_model.bin"));
        Files.delete(model.resolve("model.safetensors"));
        Result neither = run(rank);
        assertEquals(1, neither.code());
        assertTrue(neither.err().contains("missing model.safetensors (nor is there a pytorch_model.bin, or an index of shards of either)"), neither.err());
    }

    @Test
    void badModelsAndFilesExitWithOneAndAMessage() throws IOException {
        Result noFile = run("--query", "q", "--docs", tmp.resolve("absent.txt").toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(1, noFile.code());
        assertTrue(noFile.err().contains("absent.txt"), noFile.err());
        Result badModel = run("--query", "q", "--docs", docs("a").toString(), "--model", tmp.toString());
        assertEquals(1, badModel.code());
        assertTrue(badModel.err().contains("missing config.json"), badModel.err());
        Result directory = run("--query", "q", "--docs", tmp.toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(1, directory.code());
        assertTrue(directory.err().contains(tmp + " is a directory"), directory.err());
    }

    @Test
    void documentsThatAreNotUtf8ExitWithOneAndNameTheFirstBadLine() throws IOException {
        Path f = tmp.resolve("mixed.txt");
        // line 1 UTF-8, line 2 blank, line 3 Latin-1 (a lone 0xEF), line 4 Latin-1 too; \r\n and \r count once each
        byte[] utf8 = "caf\u00e9 ok\r\n\r".getBytes(StandardCharsets.UTF_8);
        byte[] latin1 = "na\u00efve\nd\u00e9j\u00e0\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] both = new byte[utf8.length + latin1.length];
        System.arraycopy(utf8, 0, both, 0, utf8.length);
        System.arraycopy(latin1, 0, both, utf8.length, latin1.length);
        Files.write(f, both);
        Result r = run("--query", "q", "--docs", f.toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("mixed.txt is not valid UTF-8 at line 3 (index 2)"), r.err());
    }

    @Test
    void documentIndicesCountBlankLinesAndEveryKindOfLineEnd() throws IOException {
        Path f = tmp.resolve("ends.txt");
        Files.writeString(f, "first\r\n\rthird\n  \nfifth");
        List<Main.Document> docs = Main.readDocuments(f.toString());
        assertEquals(List.of(new Main.Document(0, "first"), new Main.Document(2, "third"), new Main.Document(4, "fifth")), docs);
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstDocument() throws IOException {
        Path f = tmp.resolve("bom.txt");
        Files.writeString(f, "\uFEFFfirst\n\uFEFFsecond keeps a mark inside the file");
        List<Main.Document> docs = Main.readDocuments(f.toString());
        assertEquals("first", docs.get(0).text());
        assertEquals("\uFEFFsecond keeps a mark inside the file", docs.get(1).text());
    }

    private static final List<String> CHILD_FLAGS = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");

    @Test
    void outputIsUtf8WhateverTheLocale() throws Exception {
        Path docs = docs("café 😀");
        // an ASCII locale (LANG=C: cron, a container) makes stdout.encoding US-ASCII, where System.out writes "caf? ?"
        ChildJvm.Result child = ChildJvm.run(Stream.concat(CHILD_FLAGS.stream(), Stream.of("-Dstdout.encoding=US-ASCII")).toList(),
                Main.class, Duration.ofMinutes(1), "--query", "q", "--docs", docs.toString(), "--model",
                Golden.path("bert-tiny-ce").toString(), "--backend", "cpu", "--json");
        assertEquals(0, child.exitCode(), child.err());
        assertEquals("café 😀", ((Map<?, ?>) ((List<?>) Json.parse(child.out().trim())).getFirst()).get("text"), child.out());
    }

    @Test
    void messagesAreUtf8WhateverTheLocale() throws Exception {
        Path model = tmp.resolve("model");
        Golden.copyTree(Golden.path("bert-tiny-ce"), model);
        Path config = model.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("BertForSequenceClassification", "BörtForSequenceClassification"));
        // an ASCII locale makes stderr.encoding US-ASCII, where System.err writes "B?rt…"
        ChildJvm.Result child = ChildJvm.run(Stream.concat(CHILD_FLAGS.stream(), Stream.of("-Dstderr.encoding=US-ASCII")).toList(),
                Main.class, Duration.ofMinutes(1), "--query", "q", "--docs", docs("a").toString(), "--model", model.toString(),
                "--backend", "cpu");
        assertEquals(1, child.exitCode(), child.all());
        assertTrue(child.err().contains("BörtForSequenceClassification"), child.err());
    }

    @Test
    void anOutputThatCannotBeWrittenExitsWithOneAndSaysSo() throws Exception {
        Path devFull = Path.of("/dev/full");
        Assumptions.assumeTrue(Files.exists(devFull), "no /dev/full");
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CHILD_FLAGS);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "--query", "q", "--docs",
                docs("a", "b").toString(), "--model", Golden.path("bert-tiny-ce").toString(), "--backend", "cpu"));
        Path err = tmp.resolve("err.txt");
        Process child = new ProcessBuilder(command).redirectOutput(devFull.toFile()).redirectError(err.toFile()).start();
        assertTrue(child.waitFor(1, TimeUnit.MINUTES), "finished");
        assertEquals(1, child.exitValue(), "a full disk is no success: " + Files.readString(err));
        assertTrue(Files.readString(err).contains("rerank: cannot write the output: No space left on device"), Files.readString(err));
    }

    @Test
    void aReaderThatClosedThePipeEndsTheCommandQuietlyAndAFailedWriteFailsIt() throws IOException {
        Path docs = docs("a", "b", "c");
        for (String failure : List.of("Broken pipe", "No space left on device")) {
            OutputStream closed = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    throw new IOException(failure);
                }
            };
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.runWithStdout(List.of("--query", "q", "--docs", docs.toString(), "--model", Golden.path("bert-tiny-ce").toString()),
                    closed, new PrintStream(err, true, StandardCharsets.UTF_8), () -> { throw new AssertionError("no hub"); });
            String message = err.toString(StandardCharsets.UTF_8);
            if (failure.equals("Broken pipe")) {
                assertEquals(0, code, message); // as `| head` leaves it: the ranking was done, its reader wanted no more
                assertEquals("", message);
            } else {
                assertEquals(1, code);
                assertEquals("rerank: cannot write the output: No space left on device\n", message);
            }
        }
    }

    @Test
    void documentsOverTwoGigabytesAreRefusedAsTooLargeNotAsOutOfMemory() throws IOException {
        Path big = tmp.resolve("big.txt");
        try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(big.toFile(), "rw")) {
            file.setLength(Main.MAX_INPUT_BYTES + 1L); // sparse: nothing written
        }
        Result r = run("--query", "q", "--docs", big.toString(), "--model", Golden.path("bert-tiny-ce").toString());
        assertEquals(1, r.code());
        assertEquals("rerank: " + big + " is larger than 2 GB (2147483639 bytes), the most rerank reads: split it, and rank or score"
                + " each part\n", r.err(), "not -Xmx advice: no heap makes a Java array hold more");
    }
}
