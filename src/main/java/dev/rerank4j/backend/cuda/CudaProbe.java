package dev.rerank4j.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds out whether this machine can run the CUDA backend, without ever crashing the JVM: the driver
 * library must load, cuInit must succeed, and a device of compute capability 8.0 or newer must answer
 * (the kernels use Ampere's BF16 tensor cores). The library is {@value CudaDriver#DEFAULT_LIBRARY}, or
 * the path in the system property {@value #LIBRARY_PROPERTY}.
 */
public final class CudaProbe {
    /** System property naming the driver library to load instead of {@value CudaDriver#DEFAULT_LIBRARY}. */
    public static final String LIBRARY_PROPERTY = "rerank4j.cuda.library";
    /** The oldest compute capability (major) the kernels run on. */
    public static final int MIN_COMPUTE_MAJOR = 8;
    /** The oldest driver (cuDriverGetVersion) that loads the kernels' PTX (ISA 8.0: CUDA 12.0). */
    public static final int MIN_DRIVER_VERSION = 12000;

    private CudaProbe() {}

    /** What the probe found: a usable device and its description, or the reason there is none. */
    public static final class Result {
        private final CudaDriver driver;
        private final List<Device> devices;
        private final String description;

        /** A device the kernels can run on, and how to name it. */
        private record Device(int ordinal, String description) {}

        private Result(CudaDriver driver, List<Device> devices, String description) {
            this.driver = driver;
            this.devices = List.copyOf(devices);
            this.description = description;
        }

        private static Result unusable(String reason) {
            return new Result(null, List.of(), reason);
        }

        /** True if {@link #open()} can be tried. */
        public boolean usable() {
            return driver != null;
        }

        /** The device found ("device 0: NVIDIA A100 …, compute capability 8.0, driver CUDA 12.4"), or what was missing. */
        public String description() {
            return description;
        }

        /**
         * A backend on the first device found that starts: a device that is busy or in exclusive-process mode
         * leaves the work to the next one.
         *
         * @throws CudaException if there is none (the message says what was missing) or no device starts (e.g. a
         *                       driver too old for the kernels' PTX: CUDA_ERROR_UNSUPPORTED_PTX_VERSION); the other
         *                       devices' failures are suppressed in it
         */
        public CudaBackend open() {
            if (driver == null) throw new CudaException("the CUDA backend was requested but cannot be used: " + description);
            CudaException first = null;
            for (Device d : devices) {
                try {
                    return CudaBackend.open(driver, d.ordinal(), d.description());
                } catch (CudaException e) {
                    if (first == null) first = e;
                    else first.addSuppressed(e);
                }
            }
            throw first;
        }

        @Override
        public String toString() {
            return (usable() ? "usable: " : "unusable: ") + description;
        }
    }

    /** Probes the library of {@value #LIBRARY_PROPERTY}, else {@value CudaDriver#DEFAULT_LIBRARY}. */
    public static Result probe() {
        return probe(System.getProperty(LIBRARY_PROPERTY, CudaDriver.DEFAULT_LIBRARY));
    }

    /** Probes {@code library}: a soname searched as dlopen does, or a path. */
    public static Result probe(String library) {
        CudaDriver cu;
        try {
            cu = CudaDriver.load(library);
        } catch (RuntimeException e) {
            return Result.unusable(e.getMessage());
        }
        try {
            cu.init();
            int count = cu.deviceCount();
            if (count < 1) return Result.unusable(library + " reports no CUDA device");
            int version = cu.driverVersion();
            String driver = "driver CUDA " + version / 1000 + "." + (version % 1000) / 10;
            if (version < MIN_DRIVER_VERSION) {
                return Result.unusable(driver + " is too old: rerank4j's CUDA kernels need CUDA 12.0 or newer");
            }
            List<String> tooOld = new ArrayList<>();
            List<Result.Device> capable = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int device = cu.device(i);
                int major = cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                int minor = cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                String name = cu.deviceName(device);
                String what = "device " + i + ": " + name + ", compute capability " + major + "." + minor;
                if (major >= MIN_COMPUTE_MAJOR) capable.add(new Result.Device(i, what + ", " + driver));
                else tooOld.add(what);
            }
            if (!capable.isEmpty()) return new Result(cu, capable, capable.getFirst().description());
            return Result.unusable(String.join("; ", tooOld) + ": rerank4j's CUDA kernels need compute capability "
                    + MIN_COMPUTE_MAJOR + ".0 or newer");
        } catch (RuntimeException e) {
            return Result.unusable(e.getMessage());
        }
    }
}
