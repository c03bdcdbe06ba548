package dev.rerank4j.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Writes a safetensors file: an 8-byte little-endian header length, a JSON header (padded with
 * spaces so the data starts 8-aligned) naming each tensor's {@code dtype}, {@code shape} and
 * {@code data_offsets}, an optional {@code __metadata__} string map, then the tensors' bytes in the
 * order they were added, contiguous.
 *
 * <p>Collect tensors with {@code add}, then call {@link #write(Path)} once. Tensor bytes are streamed
 * through a {@link FileChannel} with a small direct buffer; a tensor added with a {@link Supplier} is
 * computed only when its turn comes, so a caller that transforms weights (e.g. transposes them) holds
 * one transformed tensor on the heap at a time, never the whole file.
 */
public final class SafeTensorsWriter {
    private static final int CHUNK = 1 << 20;
    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private record Entry(String name, DType dtype, long[] shape, long byteSize, Supplier<MemorySegment> bytes) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a {@code __metadata__} entry (e.g. {@code "format" -> "pt"}). */
    public SafeTensorsWriter metadata(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        metadata.put(key, value);
        return this;
    }

    /** Adds an F32 tensor from a heap array (row-major). The array is not copied: do not change it before {@link #write}. */
    public SafeTensorsWriter add(String name, long[] shape, float[] values) {
        Objects.requireNonNull(values, "values");
        return add(name, DType.F32, shape, MemorySegment.ofArray(values));
    }

    /**
     * Adds a tensor whose little-endian row-major bytes are {@code bytes} (a heap, native or mapped
     * segment; F16 and BF16 are written as given).
     */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, MemorySegment bytes) {
        Objects.requireNonNull(bytes, "bytes");
        long expected = byteSize(name, dtype, shape);
        if (bytes.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + " " + Arrays.toString(shape) + " " + dtype
                    + " needs " + expected + " bytes, got " + bytes.byteSize());
        }
        return addEntry(name, dtype, shape, expected, () -> bytes);
    }

    /**
     * Adds a tensor whose bytes are computed when the file is written (one at a time). The supplied
     * segment must hold exactly {@code product(shape) * dtype.byteSize()} bytes.
     */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, Supplier<MemorySegment> lazyBytes) {
        Objects.requireNonNull(lazyBytes, "lazyBytes");
        return addEntry(name, dtype, shape, byteSize(name, dtype, shape), lazyBytes);
    }

    private SafeTensorsWriter addEntry(String name, DType dtype, long[] shape, long size, Supplier<MemorySegment> bytes) {
        if (!names.add(name)) {
            throw new IllegalArgumentException("tensor " + name + " added twice");
        }
        entries.add(new Entry(name, dtype, shape.clone(), size, bytes));
        return this;
    }

    /** Whether a tensor may have {@code name} in a safetensors header: not empty, and not the metadata's key. */
    public static boolean isTensorName(String name) {
        return !name.isEmpty() && !name.equals("__metadata__");
    }

    private static long byteSize(String name, DType dtype, long[] shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(shape, "shape");
        if (!isTensorName(name)) {
            throw new IllegalArgumentException("invalid tensor name \"" + name + "\"");
        }
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return Math.multiplyExact(n, dtype.byteSize());
    }

    /** The header JSON exactly as {@link #write} puts it in the file, padding included. */
    public String header() {
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            header.put("__metadata__", new LinkedHashMap<>(metadata));
        }
        long offset = 0;
        for (Entry e : entries) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.dtype().name());
            List<Object> shape = new ArrayList<>();
            for (long d : e.shape()) shape.add(d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + e.byteSize()));
            header.put(e.name(), info);
            offset += e.byteSize();
        }
        String json = Json.write(header);
        // The data section starts at 8 + header length: pad with spaces so it is 8-aligned.
        int length = json.getBytes(StandardCharsets.UTF_8).length;
        return json + " ".repeat((8 - length % 8) % 8);
    }

    /** Writes the file (created or truncated). */
    public void write(Path file) throws IOException {
        byte[] header = header().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            writeFully(ch, prefix);
            ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            MemorySegment chunkSegment = MemorySegment.ofBuffer(chunk);
            for (Entry e : entries) {
                MemorySegment data = e.bytes().get();
                if (data.byteSize() != e.byteSize()) {
                    throw new IllegalStateException("tensor " + e.name() + " supplied " + data.byteSize()
                            + " bytes, expected " + e.byteSize());
                }
                for (long pos = 0; pos < data.byteSize(); pos += CHUNK) {
                    int n = (int) Math.min(CHUNK, data.byteSize() - pos);
                    copyLittleEndian(data, pos, chunkSegment, n);
                    chunk.clear().limit(n);
                    writeFully(ch, chunk);
                }
            }
            ch.force(true);
        } catch (java.nio.file.FileSystemException e) {
            throw e; // names the file already
        } catch (IOException e) {
            // a full disk or a file-size limit says only "No space left on device" / "File too large"
            throw new IOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void copyLittleEndian(MemorySegment src, long srcOffset, MemorySegment dst, int n) {
        if (src.heapBase().orElse(null) instanceof float[] && ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            for (int i = 0; i < n; i += 4) {
                dst.set(F32_LE, i, src.get(ValueLayout.JAVA_FLOAT_UNALIGNED, srcOffset + i));
            }
        } else {
            MemorySegment.copy(src, srcOffset, dst, 0, n);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ch.write(buffer);
        }
    }
}
