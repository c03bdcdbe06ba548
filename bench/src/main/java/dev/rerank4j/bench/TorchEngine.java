package dev.rerank4j.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PyTorch column: {@code tools/bench_torch.py} as a worker process, one per model, kept alive for the
 * whole model so it alternates with the other engines run by run. The harness writes each workload's token
 * ids to a JSON file ({@link #prepare}); each {@link #run} asks the worker for one scoring and takes the
 * seconds it measured itself (forward + pooling/head, see the script), not the round trip.
 */
final class TorchEngine implements Engine {
    static final String ID = "torch-sorted32";
    static final String LABEL = "PyTorch sorted batches of 32";

    private final Process process;
    private final BufferedWriter in;
    private final BufferedReader out;
    private final Path log;
    private final List<Path> files = new ArrayList<>();
    private final Map<Workload.Spec, Boolean> loaded = new HashMap<>();
    final String versions;
    /** Set when a request failed: the column is dropped for the rest of the model. */
    boolean failed;

    private TorchEngine(Process process, BufferedReader out, Path log, String versions) {
        this.process = process;
        this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.out = out;
        this.log = log;
        this.versions = versions;
    }

    /** tools/.venv/bin/python when it is there (tools/README.md makes it), else the first python3 on the PATH. */
    static Path defaultPython() {
        Path venv = Path.of("tools/.venv/bin/python");
        if (Files.isExecutable(venv)) return venv;
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, "python3");
            if (Files.isExecutable(p)) return p;
        }
        return venv;
    }

    /** Why there is no PyTorch column: python, torch or sentence-transformers missing, or the worker failed. */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message);
        }
    }

    /**
     * Starts the worker on {@code modelDir} and waits for its first line (it loads the model first).
     *
     * @throws Unavailable with the reason, if it cannot run; the harness then reports the column as such
     */
    static TorchEngine start(Path python, Path script, BenchModel model, Path modelDir, int threads, String device, Path logDir)
            throws Unavailable {
        if (!Files.isExecutable(python)) throw new Unavailable("not installed (no " + python + "; see tools/README.md)");
        if (!Files.isRegularFile(script)) throw new Unavailable("not installed (no " + script + ")");
        Path log = logDir.resolve("torch-" + model.id + ".log");
        Process p;
        try {
            Files.createDirectories(logDir);
            ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(), "--model", modelDir.toString(),
                    "--kind", model.cross ? "cross" : "bi", "--threads", Integer.toString(threads),
                    "--batch", Integer.toString(SideBySide.BATCH), "--pad-id", Long.toString(model.padId),
                    "--device", device);
            Map<String, String> env = pb.environment();
            env.put("HF_HUB_OFFLINE", "1");
            env.put("TRANSFORMERS_OFFLINE", "1");
            env.put("TOKENIZERS_PARALLELISM", "false");
            env.put("OMP_NUM_THREADS", Integer.toString(threads));
            env.put("MKL_NUM_THREADS", Integer.toString(threads));
            pb.redirectError(log.toFile());
            p = pb.start();
        } catch (IOException e) {
            throw new Unavailable("not installed (cannot start " + python + ": " + e.getMessage() + ")");
        }
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String first;
        try {
            first = readReply(p, out);
        } catch (IOException e) {
            first = null;
        }
        if (first == null || !first.contains("\"ok\": true")) {
            p.destroy();
            String why = first == null ? "the worker exited" : string(first, "error");
            throw new Unavailable(why != null && why.startsWith("not installed") ? why : "failed (" + why + "; see " + log + ")");
        }
        return new TorchEngine(p, out, log, String.format("torch %s, transformers %s, sentence-transformers %s, %d threads, on %s, model loaded in %.1f s",
                string(first, "torch"), string(first, "transformers"), string(first, "sentence_transformers"),
                (int) number(first, "threads"), string(first, "device"), number(first, "load_seconds")));
    }

    @Override public String id() { return ID; }
    @Override public String label() { return LABEL; }

    @Override
    public void prepare(Workload workload, BenchModel.Ids ids) throws Exception {
        Path file = Files.createTempFile("rerank4j-bench-ids-" + workload.spec().id + "-", ".json");
        files.add(file);
        StringBuilder sb = new StringBuilder(ids.tokens() * 6 + 64);
        sb.append("{\"query\": ");
        appendIds(sb, ids.query());
        sb.append(", \"seqs\": ");
        appendIdLists(sb, ids.seqs());
        sb.append(", \"types\": ");
        appendIdLists(sb, ids.types());
        sb.append("}\n");
        Files.writeString(file, sb);
        String reply = request("{\"op\": \"load\", \"workload\": \"" + workload.spec().id + "\", \"file\": \"" + jsonEscape(file.toString()) + "\"}");
        loaded.put(workload.spec(), true);
        if (number(reply, "sequences") != ids.seqs().size()) throw new IllegalStateException("torch worker: " + reply);
    }

    @Override
    public Timed run(Workload workload) throws Exception {
        if (!loaded.containsKey(workload.spec())) throw new IllegalStateException("prepare() first");
        String reply = request("{\"op\": \"run\", \"workload\": \"" + workload.spec().id + "\", \"scores\": true}");
        return new Timed(floats(reply, "scores"), number(reply, "seconds"));
    }

    private String request(String json) throws IOException {
        in.write(json);
        in.write('\n');
        in.flush();
        String reply = readReply(process, out);
        if (reply == null) throw new IOException("the torch worker exited, or gave no reply in " + REPLY_TIMEOUT_MINUTES + " min; see " + log);
        if (!reply.contains("\"ok\": true")) throw new IOException("torch worker: " + string(reply, "error") + " (see " + log + ")");
        return reply;
    }

    /** Longer than any run takes (bge (d), 1,000 pairs, about 2.5 min a run here): a worker silent this long has hung. */
    private static final long REPLY_TIMEOUT_MINUTES = 30;

    /** The worker's next line; null if it exited, or was stopped for giving none within {@link #REPLY_TIMEOUT_MINUTES}. */
    private static String readReply(Process worker, BufferedReader out) throws IOException {
        var watchdog = java.util.concurrent.CompletableFuture.runAsync(worker::destroyForcibly,
                java.util.concurrent.CompletableFuture.delayedExecutor(REPLY_TIMEOUT_MINUTES, TimeUnit.MINUTES));
        try {
            return out.readLine();
        } finally {
            watchdog.cancel(false);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            in.write("{\"op\": \"quit\"}\n");
            in.flush();
        } catch (IOException ignored) {
            // already gone
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroy();
        for (Path f : files) Files.deleteIfExists(f);
    }

    /** {@code [[...],\n[...]]}, or null. */
    private static void appendIdLists(StringBuilder sb, List<int[]> lists) {
        if (lists == null) {
            sb.append("null");
            return;
        }
        sb.append('[');
        for (int i = 0; i < lists.size(); i++) {
            if (i > 0) sb.append(",\n");
            appendIds(sb, lists.get(i));
        }
        sb.append(']');
    }

    private static void appendIds(StringBuilder sb, int[] ids) {
        if (ids == null) {
            sb.append("null");
            return;
        }
        sb.append('[');
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) sb.append(',');
            sb.append(ids[i]);
        }
        sb.append(']');
    }

    // The worker's replies are flat JSON objects written by json.dumps; these read the few fields needed.

    private static String string(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1).replace("\\\"", "\"").replace("\\\\", "\\") : null;
    }

    private static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+)").matcher(json);
        if (!m.find()) throw new IllegalStateException("no number " + key + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    private static float[] floats(String json, String key) {
        Matcher m = Pattern.compile("\"" + key + "\": \\[([^\\]]*)\\]").matcher(json);
        if (!m.find()) throw new IllegalStateException("no list " + key + " in " + json);
        String[] parts = m.group(1).split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < v.length; i++) v[i] = Float.parseFloat(parts[i].trim());
        return v;
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
