package dev.rerank4j.backend.cpu;

import java.util.Random;

/**
 * Prints the time of one MaxSim call: a 32-token query against 1,000 documents × 180 tokens × 128 dims
 * (ColBERT v2's shapes), as ms, GFLOP/s (2·32·180·128 per document) and GB/s of document vectors read;
 * then how fast those 92 MB can be read at all, sequentially and in the row-major order MaxSim once used.
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
        readBandwidth(d, threads, runs);
    }

    /**
     * The memory floor: the same 92 MB read once sequentially, and read ten rows side by side (element d of
     * rows r … r+9, 4·dim bytes apart), the order MaxSim read row-major documents in before DocumentLayout.
     */
    private static void readBandwidth(float[] d, int threads, int runs) {
        ParallelFor pf = new ParallelFor(threads);
        int perItem = 16 * 180 * 128, items = (d.length + perItem - 1) / perItem;
        float[] sink = new float[items];
        for (String order : new String[] {"sequential", "ten rows side by side"}) {
            boolean rows = order.startsWith("ten");
            double[] t = new double[runs];
            for (int i = -5; i < runs; i++) {
                long t0 = System.nanoTime();
                pf.forEach(items, (s, item) -> {
                    int from = item * perItem, to = Math.min(d.length, from + perItem);
                    sink[item] += rows ? readTenRows(d, from, to) : readSequentially(d, from, to);
                });
                if (i >= 0) t[i] = (System.nanoTime() - t0) / 1e9;
            }
            java.util.Arrays.sort(t);
            System.out.printf("read %-22s best %6.2f ms  %5.1f GB/s%n", order, t[0] * 1e3, 4.0 * d.length / t[0] / 1e9);
        }
        pf.shutdown();
    }

    private static float readSequentially(float[] d, int from, int to) {
        var s = VectorMath.S;
        int v = s.length();
        var a = jdk.incubator.vector.FloatVector.zero(s);
        var b = a;
        for (int i = from; i + 2 * v <= to; i += 2 * v) {
            a = a.add(jdk.incubator.vector.FloatVector.fromArray(s, d, i));
            b = b.add(jdk.incubator.vector.FloatVector.fromArray(s, d, i + v));
        }
        return a.add(b).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static float readTenRows(float[] d, int from, int to) {
        float a = 0, b = 0;
        for (int r0 = from; r0 + 1280 <= to; r0 += 1280) {
            for (int k = 0; k < 128; k++) {
                int r = r0 + k;
                a += d[r] + d[r + 128] + d[r + 256] + d[r + 384] + d[r + 512];
                b += d[r + 640] + d[r + 768] + d[r + 896] + d[r + 1024] + d[r + 1152];
            }
        }
        return a + b;
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
