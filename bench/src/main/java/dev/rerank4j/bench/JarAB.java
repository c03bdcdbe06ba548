package dev.rerank4j.bench;

import dev.rerank4j.tokenize.TokenizerJson;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.List;

/**
 * Two builds of rerank4j in one JVM, timed call by call: {@code Reranker.score} on a workload, alternating
 * which jar goes first. Each jar has its own class loader (so its own JIT-compiled kernels) and the host's
 * swings hit both alike, which separates changes of a few percent that two JVMs run one after the other
 * cannot (the host's speed moves by ±30% within minutes).
 *
 * <p>Arguments: baseline jar, candidate jar, model directory, workload id (a–d), pairs of calls. Prints the
 * median time of each and the median, min and max of the per-pair speed-up (baseline ÷ candidate), and the
 * largest score difference between the two (0 when a change is meant to be bit-identical).
 */
public final class JarAB {
    private JarAB() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: JarAB BASELINE.jar CANDIDATE.jar MODEL_DIR WORKLOAD PAIRS");
            System.exit(2);
        }
        Path model = Path.of(args[2]);
        Workload.Spec spec = Workload.Spec.of(args[3]);
        int pairs = Integer.parseInt(args[4]);
        Workload w = Workload.generate(TokenizerJson.load(model.resolve("tokenizer.json")), spec, Workload.DEFAULT_SEED, 50);
        Engine[] engines = {new Engine(Path.of(args[0]), model), new Engine(Path.of(args[1]), model)};
        for (int i = 0; i < 3; i++) for (Engine e : engines) e.score(w);
        float[] base = engines[0].score(w), cand = engines[1].score(w);
        double maxDiff = 0;
        for (int i = 0; i < base.length; i++) maxDiff = Math.max(maxDiff, Math.abs(base[i] - cand[i]));
        double[] baseMs = new double[pairs], candMs = new double[pairs], speedUp = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            double[] ms = new double[2];
            for (int e : p % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
                long t0 = System.nanoTime();
                engines[e].score(w);
                ms[e] = (System.nanoTime() - t0) / 1e6;
            }
            baseMs[p] = ms[0];
            candMs[p] = ms[1];
            speedUp[p] = ms[0] / ms[1];
        }
        System.out.printf("%s (%s), %d pairs: baseline median %.1f ms, candidate median %.1f ms; "
                        + "speed-up per pair: median %.3f (min %.3f, max %.3f); max |score difference| %.2e%n",
                model.getFileName(), spec.description, pairs, Results.median(baseMs), Results.median(candMs),
                Results.median(speedUp), Results.min(speedUp), Results.max(speedUp), maxDiff);
        System.exit(0); // the rerankers' worker pools are not daemon threads
    }

    /** One build's {@code Reranker}, reached by reflection through its own class loader. */
    private static final class Engine {
        private final Object reranker;
        private final Method score;

        Engine(Path jar, Path model) throws Exception {
            URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            Class<?> type = loader.loadClass("dev.rerank4j.Reranker");
            reranker = type.getMethod("load", Path.class).invoke(null, model);
            score = type.getMethod("score", String.class, List.class);
        }

        float[] score(Workload w) throws Exception {
            return (float[]) score.invoke(reranker, w.query(), w.docs());
        }
    }
}
