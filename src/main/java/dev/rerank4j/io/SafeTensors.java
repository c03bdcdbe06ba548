package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A safetensors file, or the shards of one checkpoint, memory-mapped once and sliced per tensor without copying.
 *
 * <p>Each header is validated before any tensor is handed out: bounded length, well-formed UTF-8 JSON,
 * known dtypes, shapes whose byte size matches the offsets, offsets inside the file and not
 * overlapping. Tensors of dtypes rerank4j does not compute with (I64 position ids, say) are
 * validated but only fail when asked for. Closing unmaps the file; later reads throw
 * {@link IllegalStateException}, never crash the JVM.
 */
public final class SafeTensors implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SafeTensors.class.getName());
    /** The reference implementation refuses headers over 100 MB; so do we. */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /** Every dtype the safetensors format defines, with its size, so foreign tensors validate too. */
    private static final Map<String, Integer> FORMAT_DTYPE_SIZES = Map.ofEntries(
            Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1),
            Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1),
            Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
            Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
            Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

    /** A mapped file's data bytes (after its header), and the name its errors give. */
    private record Mapping(Path file, MemorySegment data) {}

    private record Entry(String name, String dtype, long[] shape, long begin, long end, Mapping in) {
        MemorySegment bytes() {
            return in.data.asSlice(begin, end - begin);
        }
    }

    /** One file's validated tensors and metadata; its mapping belongs to the arena it was mapped into. */
    private record Part(Map<String, Entry> entries, Map<String, String> metadata, long size) {}

    private final Path file;
    private final List<Path> shards;
    private final Arena arena;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;
    /** The mapped files' size, headers included. */
    private final long byteSize;

    private SafeTensors(Path file, List<Path> shards, Arena arena, Map<String, Entry> entries, Map<String, String> metadata,
                        long byteSize) {
        this.file = file;
        this.shards = shards;
        this.arena = arena;
        this.entries = entries;
        this.metadata = metadata;
        this.byteSize = byteSize;
    }

    /** Maps and validates {@code file}. */
    public static SafeTensors open(Path file) {
        return open(file, file);
    }

    /**
     * Maps and validates {@code source}, naming it {@code file} in errors and in {@link #file()}: for a copy converted
     * from another format, so that what the user hears of is the file they gave.
     */
    public static SafeTensors open(Path source, Path file) {
        Arena arena = Arena.ofShared();
        try {
            Part part = map(source, file, arena);
            return new SafeTensors(file, List.of(), arena, part.entries, part.metadata, part.size);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Maps and validates each of {@code shards}, the files of one checkpoint, as one: a tensor in two of them is refused.
     * {@link #file()} is {@code index}, what the user gave, named in errors about tensors it lacks; errors about one tensor
     * name its shard. A shard that fails unmaps those before it.
     */
    public static SafeTensors openShards(Path index, List<Path> shards) {
        Arena arena = Arena.ofShared();
        try {
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            long size = 0;
            for (Path shard : shards) {
                Part part = map(shard, shard, arena);
                for (Entry e : part.entries.values()) {
                    Entry other = entries.putIfAbsent(e.name, e);
                    if (other != null) {
                        throw new ModelFormatException(index + ": tensor '" + e.name + "' is in two shards, " + other.in.file + " and "
                                + shard);
                    }
                }
                part.metadata.forEach(metadata::putIfAbsent);
                size += part.size;
            }
            return new SafeTensors(index, List.copyOf(shards), arena, Collections.unmodifiableMap(entries), metadata, size);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Validates {@code source}'s header and maps its data into {@code arena}, naming it {@code file} in errors. Only the
     * default file system maps files: a source in another one (a zip or jar file system, where an application ships its
     * model inside its own jar) is mapped from a copy in {@code java.io.tmpdir}, deleted at once (the mapping keeps it).
     */
    private static Part map(Path source, Path file, Arena arena) {
        if (source.getFileSystem() != FileSystems.getDefault()) return mapCopy(source, file, arena);
        try (FileChannel channel = FileChannel.open(source, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) {
                throw new ModelFormatException(file + ": file is " + size + " bytes, too short for a safetensors header (8-byte length)");
            }
            ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            readFully(channel, lengthBytes, 0, file);
            long headerLength = lengthBytes.getLong(0);
            if (headerLength < 2 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
                throw new ModelFormatException(file + ": header length " + Long.toUnsignedString(headerLength)
                        + " is impossible for a file of " + size + " bytes (at most " + Math.min(MAX_HEADER_BYTES, size - 8) + ")");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(channel, headerBytes, 8, file);
            String headerText;
            try {
                headerText = Utf8.decode(headerBytes.array());
            } catch (Utf8.MalformedException e) {
                throw new ModelFormatException(file + ": header is " + e.getMessage() + " of the header");
            }
            long dataStart = 8 + headerLength;
            // mapped before the header is parsed so that each entry can hold its file's data; mapping reads nothing
            Mapping mapping = new Mapping(file, channel.map(FileChannel.MapMode.READ_ONLY, dataStart, size - dataStart, arena));
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Entry> entries = parseHeader(headerText, mapping, metadata);
            return new Part(entries, metadata, size);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Part mapCopy(Path source, Path file, Arena arena) {
        long started = System.nanoTime();
        Path copy = null;
        try {
            copy = TemporaryFiles.track(Files.createTempFile("rerank4j-", ".safetensors"));
            Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
            Part part = map(copy, file, arena);
            Path tmpDir = copy.getParent();
            LOG.log(System.Logger.Level.INFO, () -> String.format("read %s through a copy in %s, since only the default file system maps"
                    + " files (%.1f MB, %.0f ms; deleted once mapped)", source.toUri(), tmpDir, part.size / 1e6, (System.nanoTime() - started) / 1e6));
            return part;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(file + ": cannot copy it from its file system (" + source.toUri().getScheme()
                    + ") into " + System.getProperty("java.io.tmpdir") + " to map it: " + e + " (set java.io.tmpdir elsewhere)", e);
        } finally {
            if (copy != null) TemporaryFiles.deleteMapped(copy);
        }
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new ModelFormatException(file + ": unexpected end of file while reading the header");
            }
        }
    }

    private static Map<String, Entry> parseHeader(String text, Mapping mapping, Map<String, String> metadata) {
        Path file = mapping.file;
        Map<String, Object> header;
        try {
            header = Json.parseObject(text);
        } catch (Json.JsonException e) {
            throw new ModelFormatException(file + ": header is not valid JSON: " + e.getMessage(), e);
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, Object> field : header.entrySet()) {
            String name = field.getKey();
            if (name.equals("__metadata__")) {
                readMetadata(field.getValue(), file, metadata);
                continue;
            }
            entries.put(name, parseEntry(name, field.getValue(), mapping));
        }
        checkNoOverlap(entries.values(), file);
        return Collections.unmodifiableMap(entries);
    }

    private static void readMetadata(Object value, Path file, Map<String, String> metadata) {
        if (!(value instanceof Map<?, ?> map)) {
            throw new ModelFormatException(file + ": __metadata__ must be an object of strings, found " + Json.typeName(value));
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new ModelFormatException(file + ": __metadata__." + e.getKey() + " must be a string, found " + Json.typeName(e.getValue()));
            }
            metadata.put((String) e.getKey(), s);
        }
    }

    private static Entry parseEntry(String name, Object value, Mapping mapping) {
        String where = mapping.file + ": tensor '" + name + "'";
        long dataLength = mapping.data.byteSize();
        if (!(value instanceof Map<?, ?> fields)) {
            throw new ModelFormatException(where + " must be an object, found " + Json.typeName(value));
        }
        if (!(fields.get("dtype") instanceof String dtype)) {
            throw new ModelFormatException(where + " has no string 'dtype'");
        }
        Integer elementSize = FORMAT_DTYPE_SIZES.get(dtype);
        if (elementSize == null) {
            throw new ModelFormatException(where + " has unknown dtype '" + dtype + "' (the format defines " + new java.util.TreeSet<>(FORMAT_DTYPE_SIZES.keySet()) + ")");
        }
        long[] shape = longArray(fields.get("shape"), where + " 'shape'", -1);
        long[] offsets = longArray(fields.get("data_offsets"), where + " 'data_offsets'", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataLength) {
            throw new ModelFormatException(where + " has data_offsets [" + begin + ", " + end + "] outside the "
                    + dataLength + " data bytes of the file (truncated file?)");
        }
        long expected;
        try {
            long count = 1;
            for (long d : shape) count = Math.multiplyExact(count, d);
            expected = Math.multiplyExact(count, (long) elementSize);
        } catch (ArithmeticException overflow) {
            throw new ModelFormatException(where + " has a shape whose byte size overflows: " + java.util.Arrays.toString(shape));
        }
        if (end - begin != expected) {
            throw new ModelFormatException(where + " spans " + (end - begin) + " bytes but dtype " + dtype + " × shape "
                    + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        return new Entry(name, dtype, shape, begin, end, mapping);
    }

    private static long[] longArray(Object value, String what, int requiredLength) {
        if (!(value instanceof List<?> list)) {
            throw new ModelFormatException(what + " must be an array of integers, found " + Json.typeName(value));
        }
        if (requiredLength >= 0 && list.size() != requiredLength) {
            throw new ModelFormatException(what + " must have " + requiredLength + " entries, found " + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long v) || v < 0) {
                throw new ModelFormatException(what + " entry " + i + " must be a non-negative integer, found " + list.get(i));
            }
            out[i] = v;
        }
        return out;
    }

    private static void checkNoOverlap(java.util.Collection<Entry> entries, Path file) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        for (int i = 1; i < sorted.size(); i++) {
            Entry previous = sorted.get(i - 1);
            Entry current = sorted.get(i);
            if (current.begin < previous.end) {
                throw new ModelFormatException(file + ": tensors '" + previous.name + "' [" + previous.begin + ", " + previous.end
                        + ") and '" + current.name + "' [" + current.begin + ", " + current.end + ") overlap");
            }
        }
    }

    /** The tensor named {@code name}; a clear error if it is absent or of a dtype rerank4j cannot compute with. */
    public Tensor tensor(String name) {
        return find(name).orElseThrow(() -> new ModelFormatException(
                file + ": missing tensor '" + name + "' (" + (shards.isEmpty() ? "the file has " : "its shards have ") + entries.size()
                        + " tensors" + nearestHint(name) + ")"));
    }

    /** The tensor named {@code name}, if present. */
    public Optional<Tensor> find(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            return Optional.empty();
        }
        DType dtype = DType.fromSafetensorsName(e.dtype).orElseThrow(() -> new ModelFormatException(
                e.in.file + ": tensor '" + name + "' has dtype " + e.dtype + "; rerank4j computes with F32, F16 or BF16 weights"));
        return Optional.of(new Tensor(name, dtype, e.shape, e.bytes()));
    }

    /**
     * The stored bytes of tensor {@code name} whatever its dtype (e.g. an I64 index tensor), with its
     * header dtype and shape; empty if absent. Valid until {@link #close()}.
     */
    public Optional<Raw> raw(String name) {
        Entry e = entries.get(name);
        return e == null ? Optional.empty() : Optional.of(new Raw(e.dtype, e.shape.clone(), e.bytes()));
    }

    /** A tensor as stored: header dtype name, shape, little-endian bytes. */
    public record Raw(String dtype, long[] shape, MemorySegment bytes) {}

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** Tensor names in header order (shard by shard, for shards). */
    public Set<String> names() {
        return entries.keySet();
    }

    /** The header's __metadata__ strings (for shards, each key as the first shard holding it gives it). */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public Path file() {
        return file;
    }

    /** The file that holds tensor {@code name}: its shard, for shards; {@link #file()} otherwise. Null if absent. */
    public Path fileOf(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.in.file;
    }

    /** The shards mapped, in order, for {@link #openShards}; empty for one file. */
    public List<Path> shards() {
        return shards;
    }

    /** The size of the mapped files, headers included (for a converted copy, the copy's). */
    public long byteSize() {
        return byteSize;
    }

    /** The raw dtype name in the header, e.g. "I64" for a tensor {@link #tensor} refuses. */
    public String dtypeName(String name) {
        Entry e = entries.get(name);
        return e == null ? null : e.dtype;
    }

    private String nearestHint(String name) {
        String suffix = name.contains(".") ? name.substring(name.indexOf('.') + 1) : name;
        for (String candidate : entries.keySet()) {
            if (candidate.endsWith(suffix)) {
                return "; did you mean '" + candidate + "'?";
            }
        }
        return "";
    }

    /** Unmaps the file, or every shard. Tensors obtained from it must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
