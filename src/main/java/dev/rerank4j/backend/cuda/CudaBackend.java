package dev.rerank4j.backend.cuda;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.backend.Activation;
import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.BackendArguments;
import dev.rerank4j.backend.DocumentLayout;
import dev.rerank4j.backend.LinearWeights;
import dev.rerank4j.backend.RelativeAttentionKernels;
import dev.rerank4j.backend.RotaryEncoderKernels;
import dev.rerank4j.backend.RotaryTable;
import dev.rerank4j.io.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The CUDA backend: the kernels of {@code kernels.ptx} on one NVIDIA GPU of compute capability 8.0 or
 * newer, through the driver API (only the NVIDIA driver needs to be installed). Obtain one through
 * {@link CudaProbe}.
 *
 * <p>Weights are uploaded once, in {@link #prepareLinear}, in the checkpoint's own precision: F32 weights
 * run the F32 tiled GEMM, BF16 and F16 weights run on tensor cores (F32 accumulation; each activation
 * enters as two half-precision parts, hi and lo, so it keeps about 16 significant bits). Activations are heap
 * {@code float[]}, as the {@link Backend} interface has them: an array the caller passed to {@link #keepOnDevice}
 * gets a device twin ({@link ResidentArrays}) and crosses the bus only when the host hands it over or asks for it
 * back, so a whole forward pass uploads its embeddings and downloads its last hidden states, and nothing
 * between; any other array is copied in for each call and its result copied back before the call returns.
 *
 * <p>Thread-safe: calls take one lock and run on one stream in the device's primary context, pushed
 * onto the calling thread for the call. {@link #close()} frees the device memory and releases the context.
 */
public final class CudaBackend implements Backend, RotaryEncoderKernels, RelativeAttentionKernels {
    private static final System.Logger LOG = System.getLogger(CudaBackend.class.getName());

    /** Device buffer slots of {@link DeviceScratch}. */
    private static final int IN = 0, OUT = 1, AUX = 2, AUX2 = 3, AUX3 = 4;

    private final CudaDriver cu;
    private final int device;
    private final String description;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final Kernels kernels;
    private final DeviceScratch scratch;
    private final ResidentArrays resident;
    private final ReentrantLock lock = new ReentrantLock();
    /** Every weight and bias buffer of {@link #prepareLinear}; guarded by {@link #lock}. */
    private final List<Long> weights = new ArrayList<>();
    private boolean closed;

    private CudaBackend(CudaDriver cu, int device, String description, MemorySegment context, MemorySegment stream,
                        Kernels kernels) {
        this.cu = cu;
        this.device = device;
        this.description = description;
        this.context = context;
        this.stream = stream;
        this.kernels = kernels;
        this.scratch = new DeviceScratch(cu);
        this.resident = new ResidentArrays(cu);
    }

    /**
     * Retains device {@code ordinal}'s primary context, creates a stream and loads the kernels; undoes what
     * it did if a step fails.
     */
    static CudaBackend open(CudaDriver cu, int ordinal, String description) {
        cu.init();
        int device = cu.device(ordinal);
        MemorySegment context = cu.retainPrimaryContext(device);
        CudaBackend[] made = new CudaBackend[1];
        try {
            return withContext(cu, context, () -> {
                MemorySegment stream = cu.streamCreate();
                try {
                    return made[0] = new CudaBackend(cu, device, description, context, stream, Kernels.load(cu));
                } catch (RuntimeException e) {
                    quietly(e, () -> cu.streamDestroy(stream));
                    throw e;
                }
            });
        } catch (RuntimeException e) {
            // made and then the pop failed: closing it frees what it holds, the context included
            quietly(e, made[0] != null ? made[0]::close : () -> cu.releasePrimaryContext(device));
            throw e;
        }
    }

    /**
     * Runs {@code body} with {@code context} current on the calling thread, then pops it; a failure to pop is
     * added to the body's own failure rather than put in its place, so the error the user sees is the real one.
     */
    private static <T> T withContext(CudaDriver cu, MemorySegment context, Supplier<T> body) {
        cu.pushContext(context);
        T result;
        try {
            result = body.get();
        } catch (RuntimeException e) {
            quietly(e, cu::popContext);
            throw e;
        }
        cu.popContext();
        return result;
    }

    private static void quietly(RuntimeException primary, Runnable cleanup) {
        try {
            cleanup.run();
        } catch (RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The device this backend runs on, e.g. "device 0: NVIDIA H100 80GB HBM3, compute capability 9.0, …". */
    public String description() {
        return description;
    }

    @Override
    public LinearWeights prepareLinear(Tensor weight, Tensor bias) {
        if (weight == null) throw new IllegalArgumentException("weight tensor is null");
        if (weight.rank() != 2) {
            throw new ModelFormatException("tensor " + weight.name() + ": expected a rank-2 weight [out, in], found shape "
                    + weight.shapeString());
        }
        long outL = weight.dim(0), inL = weight.dim(1);
        if (outL < 1 || inL < 1 || outL > Integer.MAX_VALUE || inL > Integer.MAX_VALUE) {
            throw new ModelFormatException("tensor " + weight.name() + ": shape " + weight.shapeString()
                    + " is empty or too large for the kernels' int sizes");
        }
        int out = (int) outL, in = (int) inL;
        long weightBytes = weight.elementCount() * weight.dtype().byteSize();
        if (weight.data().byteSize() < weightBytes) {
            throw new ModelFormatException("tensor " + weight.name() + ": " + weight.data().byteSize()
                    + " bytes hold fewer than the " + weight.elementCount() + " elements its shape needs");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != out)) {
            throw new ModelFormatException("tensor " + bias.name() + ": expected a bias of shape [" + out
                    + "] to match weight " + weight.name() + ", found " + bias.shapeString());
        }
        DeviceLinear.Precision precision = switch (weight.dtype()) {
            case F32 -> DeviceLinear.Precision.F32;
            case BF16 -> DeviceLinear.Precision.BF16;
            case F16 -> DeviceLinear.Precision.F16;
        };
        float[] b = bias == null ? null : bias.toFloatArray();
        return onDevice(() -> {
            long w = upload(weight.data().asSlice(0, weightBytes));
            long bp = 0;
            if (b != null) {
                try (Arena a = Arena.ofConfined()) {
                    bp = upload(a.allocateFrom(JAVA_FLOAT, b));
                }
            }
            return new DeviceLinear(this, weight.name(), in, out, precision, w, bp);
        });
    }

    /**
     * Allocates device memory owned by this backend until close() and copies {@code host} into it; a heap segment
     * (a tensor built in Java, which the CPU backend takes too) goes through native memory first.
     */
    private long upload(MemorySegment host) {
        if (!host.isNative()) {
            try (Arena a = Arena.ofConfined()) {
                return upload(a.allocate(host.byteSize(), 64).copyFrom(host));
            }
        }
        long p = cu.memAlloc(host.byteSize());
        weights.add(p);
        cu.copyToDevice(p, host, host.byteSize());
        return p;
    }

    @Override
    public void linear(float[] x, int rows, LinearWeights w, float[] y, Activation activation) {
        if (!(w instanceof DeviceLinear d) || d.owner() != this) {
            throw new IllegalArgumentException("weights were not prepared by this backend: " + w);
        }
        BackendArguments.linear(x, rows, d, y, activation);
        if (rows == 0) {
            onDevice(() -> null); // still refuses a closed backend, as the CPU one does
            return;
        }
        Kernels.requireLinearRows(d, rows); // before the copies: a refused call leaves y and its device twin as they were
        int xs = rows * d.in(), ys = rows * d.out();
        onDevice(() -> {
            long dx = input(x, xs, IN), dy = output(y, 0, ys, OUT);
            kernels.linear(stream, d, dx, dy, rows, activation);
            finish(y, dy, 0, ys);
            return null;
        });
    }

    @Override
    public void addLayerNorm(float[] x, float[] residual, int rows, int dim, float[] gamma, float[] beta, float eps) {
        BackendArguments.addLayerNorm(x, residual, rows, dim, gamma, beta, eps);
        int n = rows * dim;
        onDevice(() -> {
            if (rows == 0) return null;
            long dx = input(x, n, IN);
            long dres = residual == null ? 0 : input(residual, n, AUX2);
            long dgamma = input(gamma, dim, AUX), dbeta = input(beta, dim, AUX3);
            kernels.addLayerNorm(stream, dx, dres, dgamma, dbeta, rows, dim, eps, dx);
            finish(x, dx, 0, n);
            return null;
        });
    }

    @Override
    public void attention(float[] qkv, int[] seqStarts, int[] keyLengths, int heads, int headDim, float[] out) {
        // The kernel reads keyLengths[b] keys from each sequence's start: the shared checks keep that within
        // the sequence, which is what keeps the device from reading another sequence's rows or past the buffer.
        BackendArguments.attention(qkv, seqStarts, keyLengths, heads, headDim, out);
        requireAttentionHeadDim(headDim);
        int sequences = seqStarts.length - 1;
        int tokens = seqStarts[sequences];
        long qkvFloats = (long) tokens * 3 * heads * headDim;
        onDevice(() -> {
            if (sequences == 0 || tokens == seqStarts[0]) return null; // no token in any sequence
            attend(input(qkv, qkvFloats, IN), seqStarts, keyLengths, null, Integer.MAX_VALUE, heads, headDim, out);
            return null;
        });
    }

    private static void requireAttentionHeadDim(int headDim) {
        if (headDim > Kernels.ATTENTION_MAX_HEAD_DIM) {
            throw new IllegalArgumentException("the CUDA attention kernel takes headDim ≤ " + Kernels.ATTENTION_MAX_HEAD_DIM
                    + ", got " + headDim);
        }
    }

    /**
     * Attention over Q, K, V at {@code dqkv} on the device into {@code out}, Q and K first rotated there in place where
     * {@code rope} is not null, each query seeing the keys within {@code window}; on the device thread, at least one token.
     */
    private void attend(long dqkv, int[] seqStarts, int[] keyLengths, RotaryTable rope, int window, int heads, int headDim,
                        float[] out) {
        int sequences = seqStarts.length - 1, tokens = seqStarts[sequences];
        long outFloats = (long) tokens * heads * headDim;
        // Tokens before seqStarts[0] belong to no sequence: the kernel leaves their rows alone, and so
        // must the copy back (the device buffer holds stale data there).
        long first = (long) seqStarts[0] * heads * headDim;
        long dout = output(out, first, outFloats, OUT);
        long dints = uploadInts(seqStarts, keyLengths == null ? new int[0] : keyLengths), keysOff = 4L * seqStarts.length;
        if (rope != null) {
            int table = rope.positions() * (headDim / 2);
            kernels.rotary(stream, dqkv, dints, sequences, tokens - seqStarts[0], heads, headDim, input(rope.cos(), table, AUX2),
                    input(rope.sin(), table, AUX3));
        }
        int longest = 0;
        for (int b = 0; b < sequences; b++) longest = Math.max(longest, seqStarts[b + 1] - seqStarts[b]);
        kernels.attention(stream, dqkv, dints, keyLengths == null ? 0 : dints + keysOff, sequences, tokens, longest,
                heads, headDim, window, dout);
        finish(out, dout, first, outFloats);
    }

    /** [first | second] in scratch slot AUX, one upload; the device address of first (second is 4 · first.length bytes on). */
    private long uploadInts(int[] first, int[] second) {
        long secondOff = 4L * first.length, bytes = secondOff + 4L * second.length;
        MemorySegment host = staging(bytes);
        MemorySegment.copy(first, 0, host, JAVA_INT, 0, first.length);
        MemorySegment.copy(second, 0, host, JAVA_INT, secondOff, second.length);
        long device = slot(AUX, bytes);
        cu.copyToDeviceAsync(device, host, bytes, stream);
        return device;
    }

    /**
     * The product into qkv (on the device, as {@link #linear} runs it), then, there, the rotation and windowed attention.
     * The rotary tables go up once where the model keeps them on the device ({@link #keepOnDevice}).
     */
    @Override
    public void rotarySelfAttention(float[] x, int[] seqStarts, int[] keyLengths, LinearWeights w, RotaryTable rope, int window,
                                    float[] qkv, int heads, int headDim, float[] out) {
        BackendArguments.rotarySelfAttention(x, seqStarts, keyLengths, w, rope, window, qkv, heads, headDim, out);
        requireAttentionHeadDim(headDim);
        int sequences = seqStarts.length - 1, tokens = seqStarts[sequences];
        if (sequences == 0 || tokens == seqStarts[0]) {
            onDevice(() -> null); // still refuses a closed backend
            return;
        }
        linear(x, tokens, w, qkv, Activation.NONE);
        long qkvFloats = (long) tokens * 3 * heads * headDim;
        onDevice(() -> {
            // rotated in place, in qkv's twin (which then holds the truth) or in a scratch copy (qkv is work space)
            attend(input(qkv, qkvFloats, IN), seqStarts, keyLengths, rope, window, heads, headDim, out);
            return null;
        });
    }

    @Override
    public void disentangledAttention(float[] qkv, int[] seqStarts, float[] positions, int[] rows, boolean contentToPosition,
                                      boolean positionToContent, float scale, int heads, int headDim, float[] out) {
        BackendArguments.disentangledAttention(qkv, seqStarts, positions, rows, heads, headDim, out);
        requireAttentionHeadDim(headDim);
        int sequences = seqStarts.length - 1, tokens = seqStarts[sequences];
        long qkvFloats = (long) tokens * 3 * heads * headDim, outFloats = (long) tokens * heads * headDim;
        onDevice(() -> {
            if (sequences == 0 || tokens == seqStarts[0]) return null;
            long dqkv = input(qkv, qkvFloats, IN), dpositions = input(positions, positions.length, AUX2);
            long first = (long) seqStarts[0] * heads * headDim;
            long dout = output(out, first, outFloats, OUT);
            long dints = uploadInts(seqStarts, rows), rowsOff = 4L * seqStarts.length;
            kernels.disentangledAttention(stream, dqkv, dints, sequences, tokens, dpositions, dints + rowsOff, (rows.length - 1) / 2,
                    contentToPosition, positionToContent, heads, headDim, scale, dout);
            finish(out, dout, first, outFloats);
            return null;
        });
    }

    @Override
    public void gatedFeedForward(float[] x, int rows, LinearWeights in, LinearWeights out, float[] hidden, float[] gated, float[] y) {
        BackendArguments.gatedFeedForward(x, rows, in, out, hidden, gated, y);
        if (rows == 0) {
            onDevice(() -> null);
            return;
        }
        int width = out.in();
        linear(x, rows, in, hidden, Activation.NONE);
        onDevice(() -> {
            long n = (long) rows * width;
            long dh = input(hidden, 2 * n, IN), dg = output(gated, 0, n, OUT);
            kernels.geluGate(stream, dh, dg, rows, width);
            finish(gated, dg, 0, n);
            return null;
        });
        linear(gated, rows, out, y, Activation.NONE);
    }

    @Override
    public void addAndNormalize(float[] x, float[] delta, int rows, int dim, float[] gamma, float[] beta, float eps, float[] normed) {
        BackendArguments.addAndNormalize(x, delta, rows, dim, gamma, beta, eps, normed);
        int n = rows * dim;
        onDevice(() -> {
            if (rows == 0) return null;
            long dx = input(x, n, IN), ddelta = input(delta, n, AUX2);
            long dgamma = input(gamma, dim, AUX), dbeta = input(beta, dim, AUX3);
            long dnormed = output(normed, 0, n, OUT);
            kernels.addLayerNorm(stream, dx, ddelta, dgamma, dbeta, rows, dim, eps, dnormed);
            finish(x, dx, 0, n); // x holds the sum now
            finish(normed, dnormed, 0, n);
            return null;
        });
    }

    @Override
    public void maxSim(float[] query, int queryTokens, float[] docs, int[] docOffsets, int[] candidates, int dim,
                       float[] scores) {
        BackendArguments.maxSim(query, queryTokens, docs, docOffsets, candidates, dim, scores);
        int documents = candidates.length;
        // Only the candidates go to the device, end to end: offsets[i] is where candidate i starts.
        int[] offsets = new int[documents + 1];
        for (int i = 0; i < documents; i++) {
            long end = (long) offsets[i] + docOffsets[candidates[i] + 1] - docOffsets[candidates[i]];
            if (end * dim > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("the candidates hold more than 2^31 floats; score them in parts");
            }
            offsets[i + 1] = (int) end;
        }
        long docFloats = (long) offsets[documents] * dim, queryFloats = (long) queryTokens * dim;
        onDevice(() -> {
            if (documents == 0) return null;
            // This kernel reads the host's arrays: any kept on the device come home first.
            for (float[] a : new float[][] {query, docs, scores}) hostCurrent(a);
            // Host staging: [query | docs | offsets]; the scores come back over the front of it.
            long docsOff = 4L * queryFloats, offsetsOff = docsOff + 4L * docFloats;
            MemorySegment host = staging(Math.max(offsetsOff + 4L * offsets.length, 4L * documents));
            long dquery = slot(IN, Math.max(4L, 4L * queryFloats));
            long ddocs = slot(AUX2, Math.max(4L, 4L * docFloats));
            long doffsets = slot(AUX, 4L * offsets.length);
            long dscores = slot(OUT, 4L * documents);
            MemorySegment.copy(query, 0, host, JAVA_FLOAT, 0, (int) queryFloats);
            for (int i = 0; i < documents; i++) {
                // The device kernel reads rows; the layout's blocks only pay off for the CPU's prefetchers.
                int c = candidates[i];
                float[] rows = DocumentLayout.rows(docs, docOffsets[c], docOffsets[c + 1] - docOffsets[c], dim);
                MemorySegment.copy(rows, 0, host, JAVA_FLOAT, docsOff + 4L * offsets[i] * dim, rows.length);
            }
            MemorySegment.copy(offsets, 0, host, JAVA_INT, offsetsOff, offsets.length);
            if (queryFloats > 0) cu.copyToDeviceAsync(dquery, host, 4L * queryFloats, stream);
            if (docFloats > 0) cu.copyToDeviceAsync(ddocs, host.asSlice(docsOff), 4L * docFloats, stream);
            cu.copyToDeviceAsync(doffsets, host.asSlice(offsetsOff), 4L * offsets.length, stream);
            kernels.maxSim(stream, dquery, queryTokens, ddocs, doffsets, documents, dim, dscores);
            download(scores, dscores, 0, documents);
            return null;
        });
    }

    @Override
    public void keepOnDevice(float[] array) {
        if (array == null) throw new IllegalArgumentException("array is null");
        onDevice(() -> {
            resident.add(array);
            return null;
        });
    }

    @Override
    public void toHost(float[] array) {
        if (array == null) throw new IllegalArgumentException("array is null");
        onDevice(() -> {
            hostCurrent(array);
            return null;
        });
    }

    /** How many arrays have a device twin now ({@link #keepOnDevice}); twins of collected arrays are freed first. */
    public int residentArrays() {
        return onDevice(resident::size);
    }

    /**
     * The device address of {@code array}'s first {@code floats} floats as a kernel input: its twin, after
     * uploading what the device lacks, or scratch {@code slot} with the floats copied in.
     */
    private long input(float[] array, long floats, int slot) {
        ResidentArrays.Twin twin = resident.of(array);
        if (twin == null) {
            long p = slot(slot, Math.max(4L, 4L * floats));
            upload(array, 0, floats, p);
            return p;
        }
        if (twin.valid < floats) {
            upload(array, twin.valid, floats, twin.pointer);
            twin.valid = (int) floats;
        }
        return twin.pointer;
    }

    /**
     * The device address a kernel writes floats [first, end) of {@code array} to: its twin, which then holds
     * the truth up to {@code end} (what lies before {@code first} that only the host has goes up first), or
     * scratch {@code slot}, to be copied back by {@link #finish}.
     */
    private long output(float[] array, long first, long end, int slot) {
        ResidentArrays.Twin twin = resident.of(array);
        if (twin == null) return slot(slot, Math.max(4L, 4L * end));
        if (twin.valid < first) upload(array, twin.valid, first, twin.pointer);
        twin.valid = (int) Math.max(first, Math.max(twin.valid, end));
        return twin.pointer;
    }

    /**
     * Ends a call that wrote floats [first, end) of {@code array} at {@code device}: an array kept on the device
     * stays there; any other one gets them back now. Either way a failed kernel is reported here or at the next
     * wait on the stream.
     */
    private void finish(float[] array, long device, long first, long end) {
        if (resident.of(array) == null) download(array, device, first, end);
    }

    /** Copies floats [first, end) of the device buffer at {@code device} into the same place of {@code array}. */
    private void download(float[] array, long device, long first, long end) {
        long floats = end - first;
        MemorySegment host = staging(4L * floats);
        if (floats > 0) cu.copyToHostAsync(host, device + 4L * first, 4L * floats, stream);
        cu.streamSynchronize(stream); // also where a failing kernel reports its error
        if (floats > 0) MemorySegment.copy(host, JAVA_FLOAT, 0, array, (int) first, (int) floats);
    }

    /** Downloads what {@code array}'s twin holds the truth for, if it has one, and hands the array to the host. */
    private void hostCurrent(float[] array) {
        ResidentArrays.Twin twin = resident.of(array);
        if (twin == null || twin.valid == 0) return;
        download(array, twin.pointer, 0, twin.valid);
        twin.valid = 0;
    }

    /** Copies floats [from, to) of {@code array} to the same place of the device buffer at {@code device}. */
    private void upload(float[] array, long from, long to, long device) {
        if (to <= from) return;
        MemorySegment host = staging(4L * (to - from));
        MemorySegment.copy(array, (int) from, host, JAVA_FLOAT, 0, (int) (to - from));
        cu.copyToDeviceAsync(device + 4L * from, host, 4L * (to - from), stream);
    }

    /**
     * The page-locked staging buffer, once the stream has finished with it: calls no longer wait for their
     * results, so an earlier copy from it may still be queued.
     */
    private MemorySegment staging(long bytes) {
        cu.streamSynchronize(stream);
        return scratch.host(bytes);
    }

    /** Scratch device buffer {@code slot}; growing it frees the old one, so queued kernels finish first. */
    private long slot(int slot, long bytes) {
        if (!scratch.fits(slot, bytes)) cu.streamSynchronize(stream);
        return scratch.device(slot, bytes);
    }

    /**
     * Runs {@code body} under the lock with this backend's context current on the calling thread, and
     * restores the thread's previous context afterwards (other CUDA code in the process may have one).
     */
    private <T> T onDevice(Supplier<T> body) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("CudaBackend is closed");
            return withContext(cu, context, body);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees every weight and scratch buffer, unloads the kernels, destroys the stream and releases the
     * primary context. Failures are logged, not thrown: the rest is still freed. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            List<RuntimeException> failures = new ArrayList<>();
            try {
                cu.pushContext(context);
                try {
                    attempt(failures, () -> cu.streamSynchronize(stream));
                    for (long p : weights) attempt(failures, () -> cu.memFree(p));
                    weights.clear();
                    attempt(failures, scratch::free);
                    attempt(failures, resident::free);
                    attempt(failures, kernels::unload);
                    attempt(failures, () -> cu.streamDestroy(stream));
                } finally {
                    cu.popContext();
                }
            } catch (RuntimeException e) {
                failures.add(e);
            }
            attempt(failures, () -> cu.releasePrimaryContext(device));
            if (!failures.isEmpty()) {
                // after a device fault every free fails with the same sticky error: one record, the rest attached
                RuntimeException first = failures.getFirst();
                for (RuntimeException e : failures.subList(1, failures.size())) first.addSuppressed(e);
                LOG.log(System.Logger.Level.WARNING, "CudaBackend.close: " + first.getMessage()
                        + (failures.size() > 1 ? " (and " + (failures.size() - 1) + " more failures, attached)" : ""), first);
            }
        } finally {
            lock.unlock();
        }
    }

    private static void attempt(List<RuntimeException> failures, Runnable step) {
        try {
            step.run();
        } catch (RuntimeException e) {
            failures.add(e);
        }
    }


    @Override
    public String toString() {
        return "CudaBackend[" + description + "]";
    }
}
