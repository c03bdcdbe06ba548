package dev.rerank4j.backend.cpu;

import java.util.Random;

/**
 * Prints the time of one MaxSim call: a 32-token query against 1,000 documents × 180 tokens × 128 dims
 * (ColBERT v2's shapes), as ms, GFLOP/s (2·32·180·128 per document) and GB/s of document vectors read.
 * Best and median of several runs, since the machine is shared. Report only; no test times anything.
 * Run: mvn -q test-compile && java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes
 * dev.rerank4j.backend.cpu.MaxSimProbe [threads] [runs]
 */
public final class MaxSimProbe {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 30;
        int qn = 32, docs = 1000, len = 180, dim = 128;
        Random rnd = new Random(1);
        float[] q = TestTensors.random(rnd, qn * dim, 0.1f);
        float[] d = TestTensors.random(rnd, docs * len * dim, 0.1f);
        int[] off = new int[docs + 1];
        for (int k = 0; k < docs; k++) off[k + 1] = off[k] + len;
        float[] scores = new float[docs];
        double flops = 2.0 * qn * len * dim * docs;
        double bytes = 4.0 * docs * len * dim;
        System.out.printf("threads=%d, vector=%d floats, %d runs; query %d x %d, %d documents x %d tokens (%.0f MB of F32 vectors)%n",
                threads, VectorMath.S.length(), runs, qn, dim, docs, len, bytes / 1e6);
        // The same work over 8 documents of vectors (737 KB, cache-resident) separates compute from memory speed.
        float[] small = java.util.Arrays.copyOf(d, 8 * len * dim);
        try (CpuBackend be = new CpuBackend(threads)) {
            time("", be, q, qn, d, off, dim, scores, runs, flops, bytes);
            time(" (cached)", be, q, qn, small, null, dim, scores, runs, flops, bytes);
        }
    }

    private static void time(String label, CpuBackend be, float[] q, int qn, float[] d, int[] off, int dim, float[] scores,
                             int runs, double flops, double bytes) {
        Runnable call;
        if (off != null) {
            call = () -> be.maxSim(q, qn, d, off, dim, scores);
        } else { // 125 calls of 8 documents each
            int len = d.length / dim / 8;
            int[] eight = new int[9];
            for (int k = 0; k < 8; k++) eight[k + 1] = eight[k] + len;
            float[] part = new float[8];
            call = () -> {
                for (int c = 0; c < scores.length / 8; c++) be.maxSim(q, qn, d, eight, dim, part);
            };
        }
        for (int i = 0; i < 20; i++) call.run();
        double[] t = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            call.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        java.util.Arrays.sort(t);
        for (String which : new String[] {"best", "median"}) {
            double s = which.equals("best") ? t[0] : t[runs / 2];
            System.out.printf("maxSim%s %-6s %7.2f ms  %6.1f GFLOP/s  %5.1f GB/s%n", label, which, s * 1e3, flops / s / 1e9, bytes / s / 1e9);
        }
    }
}
