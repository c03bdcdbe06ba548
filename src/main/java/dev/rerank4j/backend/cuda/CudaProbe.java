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
        private final int ordinal;
        private final String description;

        private Result(CudaDriver driver, int ordinal, String description) {
            this.driver = driver;
            this.ordinal = ordinal;
            this.description = description;
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
         * A backend on the device found.
         *
         * @throws CudaException if there is none (the message says what was missing) or the device fails to
         *                       start (e.g. a driver too old for the kernels' PTX: CUDA_ERROR_UNSUPPORTED_PTX_VERSION)
         */
        public CudaBackend open() {
            if (driver == null) throw new CudaException("the CUDA backend was requested but cannot be used: " + description);
            return CudaBackend.open(driver, ordinal, description);
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
            return new Result(null, -1, e.getMessage());
        }
        try {
            cu.init();
            int count = cu.deviceCount();
            if (count < 1) return new Result(null, -1, library + " reports no CUDA device");
            int version = cu.driverVersion();
            String driver = "driver CUDA " + version / 1000 + "." + (version % 1000) / 10;
            if (version < MIN_DRIVER_VERSION) {
                return new Result(null, -1, driver + " is too old: rerank4j's CUDA kernels need CUDA 12.0 or newer");
            }
            List<String> tooOld = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int device = cu.device(i);
                int major = cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
                int minor = cu.deviceAttribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
                String name = cu.deviceName(device);
                String what = "device " + i + ": " + name + ", compute capability " + major + "." + minor;
                if (major >= MIN_COMPUTE_MAJOR) return new Result(cu, i, what + ", " + driver);
                tooOld.add(what);
            }
            return new Result(null, -1, String.join("; ", tooOld) + ": rerank4j's CUDA kernels need compute capability "
                    + MIN_COMPUTE_MAJOR + ".0 or newer");
        } catch (RuntimeException e) {
            return new Result(null, -1, e.getMessage());
        }
    }
}
