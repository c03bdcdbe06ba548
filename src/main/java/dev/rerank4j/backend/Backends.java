package dev.rerank4j.backend;

import dev.rerank4j.Options.BackendChoice;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.backend.cuda.CudaBackend;
import dev.rerank4j.backend.cuda.CudaProbe;

import java.util.function.Supplier;

/**
 * Turns {@link BackendChoice} into a running {@link Backend}: the one place that decides between the CPU
 * and CUDA, and says why ({@link Selection#reason()}, which the model's load line carries).
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private static final String FAILED_TO_START = "AUTO: CUDA device found but it failed to start";
    /**
     * Without native access AUTO does not look for a GPU at all: loading libcuda would make the JDK print its
     * restricted-method warning on every CPU-only run (and fail where native access is denied).
     */
    static final String NO_NATIVE_ACCESS = "AUTO: native access is not enabled, so no GPU was looked for "
            + "(java --enable-native-access=ALL-UNNAMED, or rerank4j's module, lets AUTO use CUDA)";

    /**
     * The CPU kernels' Vector API lives in an incubator module, which the JVM resolves only when asked to: without it
     * the first kernel class fails to link with a bare {@code NoClassDefFoundError: jdk/incubator/vector/Vector}.
     */
    static final String NO_VECTOR_API = "the CPU backend needs the Vector API (module jdk.incubator.vector), which this"
            + " JVM was started without: run java with --add-modules jdk.incubator.vector (an application on the module"
            + " path may instead declare requires jdk.incubator.vector in its module-info.java)";

    private Backends() {}

    /**
     * Checks, before anything is opened, that this JVM can run what {@code requested} may run on: the CPU needs the
     * Vector API; CUDA does not; AUTO needs it only where it would run on the CPU (no native access, no usable GPU), so a
     * JVM without the module still runs AUTO on a usable GPU, as it always did. Without the module, AUTO probes for a GPU
     * here (and {@link #select} again).
     *
     * @throws IllegalStateException if the Vector API is missing and would be needed; the message names the flag that adds it
     */
    public static void requireUsable(BackendChoice requested) {
        if (requested == BackendChoice.CUDA || vectorApiPresent()) return;
        if (requested == BackendChoice.AUTO) {
            String reason;
            if (!Backends.class.getModule().isNativeAccessEnabled()) {
                reason = NO_NATIVE_ACCESS;
            } else {
                CudaProbe.Result found = CudaProbe.probe();
                if (found.usable()) return; // the GPU runs it; a GPU that then fails to start is refused in select
                reason = "AUTO: no usable CUDA device (" + found.description() + ")";
            }
            throw noVectorApi(reason);
        }
        throw new IllegalStateException(NO_VECTOR_API);
    }

    private static IllegalStateException noVectorApi(String autoReason) {
        return new IllegalStateException(NO_VECTOR_API + " (AUTO runs on the CPU where no GPU is usable, as here: " + autoReason
                + "; the CUDA backend, asked for by name, does not need it)");
    }

    /** Whether the kernels' classes can link: looked up without initialising anything, from rerank4j's own loader. */
    private static boolean vectorApiPresent() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, Backends.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The backend chosen and why, e.g. "AUTO: no usable CUDA device (libcuda.so.1 not found: …)". */
    public record Selection(Backend backend, String reason) {}

    /** Opens the backend {@code requested} names; {@code threads} sizes the CPU backend's pool. */
    public static Selection select(BackendChoice requested, int threads) {
        return select(requested, threads, CudaProbe::probe);
    }

    /**
     * As {@link #select(BackendChoice, int)}, with the CUDA probe supplied (tests point it at a fake driver).
     *
     * @throws dev.rerank4j.backend.cuda.CudaException if CUDA was requested and cannot be used; the message names what is missing
     * @throws IllegalStateException if the Vector API is missing and the CPU was requested, or AUTO would fall back to it
     */
    public static Selection select(BackendChoice requested, int threads, Supplier<CudaProbe.Result> probe) {
        if (requested == null) throw new IllegalArgumentException("requested backend is null");
        Selection selection = switch (requested) {
            case CPU -> {
                requireUsable(BackendChoice.CPU);
                yield new Selection(cpu(threads), "CPU requested");
            }
            case CUDA -> {
                CudaBackend cuda = probe.get().open(); // the device that started, which need not be the first found
                yield new Selection(cuda, "CUDA requested: " + cuda.description());
            }
            case AUTO -> Backends.class.getModule().isNativeAccessEnabled() ? auto(probe.get(), threads)
                    : autoOnCpu(threads, NO_NATIVE_ACCESS);
        };
        // A device that answered but failed to start deserves a warning: the user has a GPU and is not using it. Any other
        // choice is said once, in the model's load line, where CONVENTIONS wants one line per load.
        System.Logger.Level level = selection.reason().startsWith(FAILED_TO_START) ? System.Logger.Level.WARNING
                : System.Logger.Level.DEBUG;
        LOG.log(level, () -> "backend " + selection.backend().name() + " (" + selection.reason() + ")");
        return selection;
    }

    private static Selection auto(CudaProbe.Result found, int threads) {
        if (!found.usable()) {
            return autoOnCpu(threads, "AUTO: no usable CUDA device (" + found.description() + ")");
        }
        try {
            CudaBackend cuda = found.open();
            return new Selection(cuda, "AUTO: " + cuda.description());
        } catch (RuntimeException e) {
            // A device answered but would not start (an old driver rejecting the PTX, out of memory, ...):
            // AUTO promises a working reranker, so it falls back and says why.
            return autoOnCpu(threads, FAILED_TO_START + " (" + found.description() + ": " + e.getMessage() + ")");
        }
    }

    /** AUTO's fall-back to the CPU, for {@code reason}: refused, with the reason, in a JVM without the Vector API. */
    private static Selection autoOnCpu(int threads, String reason) {
        if (!vectorApiPresent()) throw noVectorApi(reason);
        return new Selection(cpu(threads), reason);
    }

    /**
     * A CPU backend of the threads asked for, at most the processors this JVM may use: helpers poll for work
     * between kernels, so a thread beyond the processors only slows every kernel, and enough of them exhaust the
     * OS's threads (100,000 ended in "unable to create native thread"). Tests that need two lanes on a one-CPU
     * machine build {@link CpuBackend} themselves.
     */
    private static CpuBackend cpu(int asked) {
        int processors = Runtime.getRuntime().availableProcessors();
        if (asked <= processors) return new CpuBackend(asked);
        LOG.log(System.Logger.Level.WARNING, "{0} threads asked for, but this JVM may use {1} processors: running {1}",
                asked, processors);
        return new CpuBackend(processors);
    }
}
