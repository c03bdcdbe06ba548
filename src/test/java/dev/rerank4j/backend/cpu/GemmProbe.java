package dev.rerank4j.backend.cpu;

import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.io.DType;
import java.util.Random;

/**
 * Prints GFLOP/s for linear() and attention() (best of several runs, since the machine is shared).
 * Run: mvn -q test-compile && java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes
 * dev.rerank4j.backend.cpu.GemmProbe [threads] [runs]
 */
public final class GemmProbe {
    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        Random rnd = new Random(1);
        System.out.printf("threads=%d, vector=%d floats, best of %d runs%n", threads, VectorMath.S.length(), runs);
        try (CpuBackend be = new CpuBackend(threads)) {
            int m = 2048;
            int[][] shapes = {{384, 1152}, {384, 1536}, {1536, 384}, {768, 3072}};
            for (int[] s : shapes) {
                int k = s[0], n = s[1];
                LinearWeights w = be.prepareLinear(TestTensors.of("w", DType.F32, TestTensors.random(rnd, n * k, 0.05f), n, k),
                        TestTensors.of("b", DType.F32, TestTensors.random(rnd, n, 0.05f), n));
                float[] x = TestTensors.random(rnd, m * k, 1f), y = new float[m * n];
                for (Activation act : new Activation[] {Activation.NONE, Activation.GELU}) {
                    double best = best(runs, () -> be.linear(x, m, w, y, act));
                    System.out.printf("linear M=%d K=%4d N=%4d %-4s  %7.1f GFLOP/s  (%.2f ms)%n", m, k, n, act,
                            2.0 * m * k * n / best / 1e9, best * 1e3);
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

    private static double best(int runs, Runnable r) {
        for (int i = 0; i < 5; i++) r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e9);
        }
        return best;
    }
}
