package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import java.util.Random;

/**
 * Prints GFLOP/s for linear() and attention() (best of several runs, since the machine is shared), and for
 * linear() also its share of the FMA peak measured right after each run on as many threads: on a shared host
 * the peak itself moves by ±30% within minutes, so only such interleaved ratios compare across runs.
 * Run: mvn -q test-compile && java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes
 * dev.rerank4j.backend.cpu.GemmProbe [threads] [runs]
 */
public final class GemmProbe {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        Random rnd = new Random(1);
        System.out.printf("threads=%d, vector=%d floats, best of %d runs%n", threads, VectorMath.S.length(), runs);
        for (int i = 0; i < 5; i++) fmaPeak(threads); // compiled before it is a yardstick
        try (CpuBackend be = new CpuBackend(threads)) {
            int m = 2048;
            int[][] shapes = {{384, 1152}, {384, 1536}, {1536, 384}, {768, 3072}};
            for (int[] s : shapes) {
                int k = s[0], n = s[1];
                LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(rnd, n * k, 0.05f), n, k),
                        TestTensors.of("b", DType.F32, TestTensors.random(rnd, n, 0.05f), n));
                float[] x = TestTensors.random(rnd, m * k, 1f), y = new float[m * n];
                for (Activation act : new Activation[] {Activation.NONE, Activation.GELU}) {
                    double flops = 2.0 * m * k * n;
                    double[] gflops = new double[runs], share = new double[runs];
                    best(5, 0, () -> be.linear(x, m, w, y, act));
                    for (int i = 0; i < runs; i++) {
                        gflops[i] = flops / best(0, 3, () -> be.linear(x, m, w, y, act)) / 1e9;
                        share[i] = gflops[i] / fmaPeak(threads);
                    }
                    System.out.printf("linear M=%d K=%4d N=%4d %-4s  %7.1f GFLOP/s median, %7.1f best; %4.0f%% of the FMA peak (median)%n",
                            m, k, n, act, median(gflops), java.util.Arrays.stream(gflops).max().orElseThrow(), 100 * median(share));
                }
            }
            for (int m1 : new int[] {1, 40}) {
                LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(rnd, 1536 * 384, 0.05f), 1536, 384), null);
                float[] x = TestTensors.random(rnd, m1 * 384, 1f), y = new float[m1 * 1536];
                double best = best(runs * 20, () -> be.linear(x, m1, w, y, Activation.NONE));
                System.out.printf("linear M=%d K=384 N=1536 (latency)  %7.1f GFLOP/s  (%.1f us)%n", m1,
                        2.0 * m1 * 384 * 1536 / best / 1e9, best * 1e6);
            }
            int seqs = 100, len = 128, heads = 12, hd = 32;
            int[] starts = new int[seqs + 1];
            for (int b = 0; b < seqs; b++) starts[b + 1] = starts[b] + len;
            float[] qkv = TestTensors.random(rnd, seqs * len * 3 * heads * hd, 1f), out = new float[seqs * len * heads * hd];
            double best = best(runs, () -> be.attention(qkv, starts, heads, hd, out));
            double flops = 4.0 * seqs * heads * len * len * hd;
            System.out.printf("attention %d x %d tokens, %d heads x %d  %7.1f GFLOP/s  (%.2f ms)%n", seqs, len, heads, hd,
                    flops / best / 1e9, best * 1e3);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** GFLOP/s of 12 independent FMA chains per thread on {@code threads} threads at once (as FmaPeakBenchmark). */
    private static double fmaPeak(int threads) {
        long iterations = 4_000_000; // ≈ 20 ms: long against thread start-up, short against the host's swings
        java.util.concurrent.atomic.DoubleAdder sink = new java.util.concurrent.atomic.DoubleAdder();
        Thread[] workers = new Thread[threads];
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            (workers[t] = new Thread(() -> sink.add(fmaChains(iterations)))).start();
        }
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (sink.sum() == 42) System.out.print("");
        return 2.0 * 12 * VectorMath.S.length() * iterations * threads / seconds / 1e9;
    }

    private static float fmaChains(long iterations) {
        var s = VectorMath.S;
        var a = jdk.incubator.vector.FloatVector.broadcast(s, 0.999f);
        var b = jdk.incubator.vector.FloatVector.broadcast(s, 1e-4f);
        var c0 = a; var c1 = b; var c2 = a; var c3 = b; var c4 = a; var c5 = b;
        var c6 = a; var c7 = b; var c8 = a; var c9 = b; var c10 = a; var c11 = b;
        for (long i = 0; i < iterations; i++) {
            c0 = a.fma(b, c0); c1 = a.fma(b, c1); c2 = a.fma(b, c2); c3 = a.fma(b, c3);
            c4 = a.fma(b, c4); c5 = a.fma(b, c5); c6 = a.fma(b, c6); c7 = a.fma(b, c7);
            c8 = a.fma(b, c8); c9 = a.fma(b, c9); c10 = a.fma(b, c10); c11 = a.fma(b, c11);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static double best(int runs, Runnable r) {
        return best(5, runs, r);
    }

    private static double best(int warmups, int runs, Runnable r) {
        for (int i = 0; i < warmups; i++) r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
        }
        return best;
    }
}
