package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.AtomicFiles;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.SafeTensorsWriter;
import dev.rerank4j.io.TemporaryFiles;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch state dict as {@code torch.save} writes it ({@code pytorch_model.bin}), turned into the
 * {@code model.safetensors} rerank4j loads. Both of torch.save's formats are read: the zip of PyTorch 1.6 and later
 * ({@code <root>/data.pkl} and one entry {@code <root>/data/<key>} per storage), and the legacy one before it (a magic
 * number, a version and a system description, the state dict's pickle, the list of storage keys, then each storage
 * as its element count and its bytes). The pickles are read by {@link Unpickler}, which runs nothing they name.
 *
 * <p>Floating-point tensors (F32, F16, BF16) are written as they are stored; the integer buffers transformers keeps
 * in a state dict ({@code position_ids}, {@code token_type_ids}) are left out, since loading never reads them; any
 * other tensor of another type is refused. Tied weights (two names, one storage) are written under each name.
 */
public final class TorchCheckpoint {
    public static final String FILE = "pytorch_model.bin";

    private static final Map<String, DType> FLOAT_TYPES = Map.of("float32", DType.F32, "float16", DType.F16, "bfloat16", DType.BF16);
    private static final List<String> SKIPPED_BUFFERS = List.of("position_ids", "token_type_ids");
    /** The legacy format's first pickle, protocol 2: the magic number 0x1950a86a20f9469cfc6c as a LONG1. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9,
            0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, '.'};
    private static final long LEGACY_VERSION = 1001;

    private TorchCheckpoint() {}

    /** Where a checkpoint's storages are: a tensor's bytes, once checked to lie inside its storage. */
    private interface Storages {
        /** The bytes storage {@code s} holds, or −1 if the file has no such storage. */
        long bytes(Unpickler.StorageRef s);

        MemorySegment read(Unpickler.TensorRef t, long byteOffset, long bytes, String name);
    }

    /**
     * Writes {@code dir/model.safetensors} from {@code dir/pytorch_model.bin}, or from the shards its
     * pytorch_model.bin.index.json names: to a temporary file in {@code dir}, then renamed, so an interrupted conversion
     * leaves no partial model.safetensors.
     *
     * @return the tensors written, by name
     * @throws IllegalArgumentException if there is neither, or model.safetensors exists already
     * @throws ModelFormatException if a file is not a state dict this reads (the message says what was found)
     */
    public static Map<String, long[]> convert(Path dir) throws IOException {
        Path bin = dir.resolve(FILE), index = dir.resolve(ShardIndex.PYTORCH), out = dir.resolve(OnnxConverter.WEIGHTS_FILE);
        if (Files.exists(out)) throw new IllegalArgumentException(out + " exists already");
        List<Path> bins = Files.isRegularFile(bin) ? List.of(bin) : Files.isRegularFile(index) ? ShardIndex.shards(index) : null;
        if (bins == null) throw new IllegalArgumentException("no " + FILE + " or " + ShardIndex.PYTORCH + " in " + dir);
        Path tmp = TemporaryFiles.track(AtomicFiles.temporaryBeside(out));
        boolean moved = false;
        try {
            Map<String, long[]> written = write(bins, tmp);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            return written;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
            TemporaryFiles.release(tmp);
        }
    }

    /** Writes the safetensors form of checkpoint {@code bin} to {@code out} (created or truncated); the tensors written, by name. */
    static Map<String, long[]> write(Path bin, Path out) throws IOException {
        return write(List.of(bin), out);
    }

    /**
     * Writes the tensors of the checkpoints {@code bins} (one, or the shards of a sharded one) to {@code out}, one
     * safetensors file; a name two of them hold is refused. The tensors written, by name.
     */
    static Map<String, long[]> write(List<Path> bins, Path out) throws IOException {
        SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt").metadata("converted_from", bins.getFirst().getFileName().toString());
        Map<String, long[]> written = new LinkedHashMap<>();
        List<AutoCloseable> opened = new ArrayList<>(); // read from while the file is written
        try {
            for (Path bin : bins) opened.add(isZip(bin) ? addZip(bin, writer, written) : addLegacy(bin, writer, written));
            if (written.isEmpty()) throw new ModelFormatException(bins.getFirst() + ": the state dict holds no floating-point tensor");
            writer.write(out);
            return written;
        } finally {
            for (AutoCloseable c : opened) {
                try {
                    c.close();
                } catch (Exception e) {
                    // read-only sources: nothing is lost
                }
            }
        }
    }

    private static ZipFile addZip(Path bin, SafeTensorsWriter writer, Map<String, long[]> written) throws IOException {
        long fileSize = Files.size(bin);
        ZipFile zip = open(bin);
        try {
            String root = root(zip, bin);
            Map<String, Unpickler.TensorRef> tensors = stateDict(zipPickle(zip, root, bin), bin + " (" + root + "data.pkl)", bin);
            add(bin, tensors, new Storages() {
                @Override
                public long bytes(Unpickler.StorageRef s) {
                    ZipEntry e = zip.getEntry(root + "data/" + s.key());
                    return e == null ? -1 : plausibleSize(e, bin, fileSize);
                }

                @Override
                public MemorySegment read(Unpickler.TensorRef t, long byteOffset, long bytes, String name) {
                    return readEntry(zip, root + "data/" + t.storage().key(), byteOffset, bytes, bin, name);
                }
            }, writer, written);
            return zip;
        } catch (RuntimeException e) {
            zip.close();
            throw e;
        }
    }

    private static Arena addLegacy(Path bin, SafeTensorsWriter writer, Map<String, long[]> written) throws IOException {
        // shared, not confined: reads of a confined segment spoil the profile C2 compiles the GEMM tile with (Weights.scratchArena)
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(bin, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            ByteBuffer in = file.asSlice(0, Math.min(file.byteSize(), Integer.MAX_VALUE)).asByteBuffer();
            in.position(LEGACY_MAGIC.length);
            String source = bin + " (legacy format)";
            if (!(Unpickler.load(in, source) instanceof Long version) || version != LEGACY_VERSION) {
                throw new ModelFormatException(source + ": not protocol version " + LEGACY_VERSION + " of torch.save's legacy format");
            }
            if (!(Unpickler.load(in, source) instanceof Map<?, ?> sysInfo)) throw new ModelFormatException(source + ": no system description");
            if (!Boolean.TRUE.equals(sysInfo.get("little_endian"))) {
                throw new ModelFormatException(source + ": written on a big-endian machine; rerank4j reads little-endian storages");
            }
            Map<String, Unpickler.TensorRef> tensors = stateDict(Unpickler.load(in, source), source, bin);
            if (!(Unpickler.load(in, source) instanceof List<?> keys)) throw new ModelFormatException(source + ": no list of storage keys");
            Map<String, Integer> elementBytes = new HashMap<>();
            for (Unpickler.TensorRef t : tensors.values()) elementBytes.put(t.storage().key(), t.storage().elementBytes());
            Map<String, MemorySegment> storages = new HashMap<>();
            long at = in.position();
            for (Object k : keys) {
                if (!(k instanceof String key) || !elementBytes.containsKey(key)) {
                    throw new ModelFormatException(source + ": storage " + k + " is not one the state dict's tensors use");
                }
                if (at + 8 > file.byteSize()) throw new ModelFormatException(source + ": the file ends before storage " + key);
                long elements = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at);
                long bytes = elements < 0 || elements > file.byteSize() ? -1 : elements * elementBytes.get(key);
                if (bytes < 0 || at + 8 + bytes > file.byteSize()) {
                    throw new ModelFormatException(source + ": storage " + key + " claims " + elements + " elements past the file's end");
                }
                storages.put(key, file.asSlice(at + 8, bytes));
                at += 8 + bytes;
            }
            add(bin, tensors, new Storages() {
                @Override
                public long bytes(Unpickler.StorageRef s) {
                    MemorySegment m = storages.get(s.key());
                    return m == null ? -1 : m.byteSize();
                }

                @Override
                public MemorySegment read(Unpickler.TensorRef t, long byteOffset, long bytes, String name) {
                    return storages.get(t.storage().key()).asSlice(byteOffset, bytes);
                }
            }, writer, written);
            return arena;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Adds {@code bin}'s floating-point tensors to {@code writer}, read when it writes. */
    private static void add(Path bin, Map<String, Unpickler.TensorRef> tensors, Storages storages, SafeTensorsWriter writer,
                            Map<String, long[]> written) {
        for (Map.Entry<String, Unpickler.TensorRef> e : tensors.entrySet()) {
            String name = e.getKey();
            Unpickler.TensorRef t = e.getValue();
            DType dtype = FLOAT_TYPES.get(t.storage().dtype());
            if (dtype == null) {
                if (SKIPPED_BUFFERS.stream().anyMatch(name::endsWith)) continue;
                throw new ModelFormatException(bin + ": tensor " + name + " is " + t.storage().dtype()
                        + "; rerank4j reads F32, F16 and BF16 weights");
            }
            if (written.containsKey(name)) throw new ModelFormatException(bin + ": tensor " + name + " is in another shard too");
            if (!SafeTensorsWriter.isTensorName(name)) {
                throw new ModelFormatException(bin + ": a tensor named \"" + name + "\", a name no model has and safetensors cannot hold");
            }
            long bytes = requireInStorage(bin, name, t, dtype, storages);
            long byteOffset = t.offset() * dtype.byteSize();
            writer.add(name, dtype, t.shape(), () -> storages.read(t, byteOffset, bytes, name));
            written.put(name, t.shape());
        }
    }

    /** Whether {@code bin} is the zip format; the legacy one otherwise (its magic number checked), else refused. */
    private static boolean isZip(Path bin) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(bin)) {
            head = in.readNBytes(LEGACY_MAGIC.length);
        }
        if (head.length >= 2 && head[0] == 'P' && head[1] == 'K') return true;
        if (Arrays.equals(head, LEGACY_MAGIC)) return false;
        throw new ModelFormatException(bin + ": not a PyTorch checkpoint (neither torch.save's zip nor its legacy format)");
    }

    private static ZipFile open(Path bin) throws IOException {
        try {
            return new ZipFile(bin.toFile());
        } catch (ZipException e) {
            throw new ModelFormatException(bin + ": a corrupt zip (" + e.getMessage() + ")");
        }
    }

    /** The archive's top folder: torch.save names it after the file ("archive/" in recent versions). */
    private static String root(ZipFile zip, Path bin) {
        String root = null;
        for (ZipEntry e : zip.stream().toList()) {
            if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().length() - "/data.pkl".length()) {
                if (root != null) throw new ModelFormatException(bin + ": two data.pkl entries, " + root + "data.pkl and " + e.getName());
                root = e.getName().substring(0, e.getName().length() - "data.pkl".length());
            }
        }
        if (root == null) throw new ModelFormatException(bin + ": a zip without <folder>/data.pkl, so not a torch.save checkpoint");
        return root;
    }

    /** The state dict's pickle, read; an entry the zip cannot give back (a damaged header, cut short) is a corrupt file. */
    private static Object zipPickle(ZipFile zip, String root, Path bin) {
        ZipEntry byteOrder = zip.getEntry(root + "byteorder"), pkl = zip.getEntry(root + "data.pkl");
        if (pkl.getSize() > 64L << 20) throw new ModelFormatException(bin + ": data.pkl is " + pkl.getSize() + " bytes, more than a state dict's");
        byte[] pickle;
        try {
            if (byteOrder != null) {
                try (InputStream in = zip.getInputStream(byteOrder)) {
                    String order = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
                    if (!order.equals("little")) throw new ModelFormatException(bin + ": storages are " + order + "-endian; rerank4j reads little-endian");
                }
            }
            try (InputStream in = zip.getInputStream(pkl)) {
                pickle = in.readNBytes(64 << 20);
            }
        } catch (IOException e) {
            throw new ModelFormatException(bin + ": a corrupt zip (" + e + ")");
        }
        return Unpickler.load(ByteBuffer.wrap(pickle), bin + " (" + root + "data.pkl)");
    }

    private static Map<String, Unpickler.TensorRef> stateDict(Object dict, String source, Path bin) {
        if (!(dict instanceof Map<?, ?> map)) {
            throw new ModelFormatException(source + ": the pickle holds " + Unpickler.describe(dict) + ", not a state dict (a dict of"
                    + " tensors; a whole pickled model is not read: save model.state_dict())");
        }
        Map<String, Unpickler.TensorRef> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof Unpickler.TensorRef t)) {
                throw new ModelFormatException(source + ": the state dict maps " + Unpickler.describe(e.getKey()) + " to "
                        + Unpickler.describe(e.getValue()) + ", not a name to a tensor");
            }
            tensors.put(name, t);
        }
        return tensors;
    }

    /** The tensor's bytes, checked to be row-major and inside its storage. */
    private static long requireInStorage(Path bin, String name, Unpickler.TensorRef t, DType dtype, Storages storages) {
        try {
            return checkedBytes(bin, name, t, dtype, storages);
        } catch (ArithmeticException e) {
            throw new ModelFormatException(bin + ": tensor " + name + " has a shape " + Arrays.toString(t.shape()) + " or offset "
                    + t.offset() + " too large for any file");
        }
    }

    private static long checkedBytes(Path bin, String name, Unpickler.TensorRef t, DType dtype, Storages storages) {
        long[] shape = t.shape(), stride = t.stride();
        if (stride.length != shape.length) throw new ModelFormatException(bin + ": tensor " + name + " has " + shape.length + " dimensions and " + stride.length + " strides");
        long elements = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] > 1 && stride[i] != elements) {
                throw new ModelFormatException(bin + ": tensor " + name + " is not contiguous (shape " + Arrays.toString(shape) + ", strides "
                        + Arrays.toString(stride) + "): save the state dict of contiguous tensors");
            }
            elements = Math.multiplyExact(elements, shape[i]);
        }
        if (Math.addExact(t.offset(), elements) > t.storage().size()) { // the Unpickler refuses a negative offset
            throw new ModelFormatException(bin + ": tensor " + name + " needs elements " + t.offset() + " to " + (t.offset() + elements)
                    + " of a storage of " + t.storage().size());
        }
        long held = storages.bytes(t.storage()), storageBytes = Math.multiplyExact(t.storage().size(), dtype.byteSize());
        if (held < storageBytes) {
            throw new ModelFormatException(bin + ": tensor " + name + "'s storage " + t.storage().key()
                    + (held < 0 ? " is missing" : " holds " + held + " bytes, not " + storageBytes));
        }
        return Math.multiplyExact(elements, dtype.byteSize());
    }

    /**
     * The size a storage's entry declares, if its bytes could hold it: the reader allocates a tensor's size before it
     * reads, so a file of a few hundred bytes that declares a terabyte must be refused from what it holds. torch.save
     * stores entries uncompressed (declared = stored); DEFLATE expands at most 1032 to 1.
     */
    private static long plausibleSize(ZipEntry e, Path bin, long fileSize) {
        long size = e.getSize(), stored = e.getCompressedSize();
        long most = stored < 0 || stored > fileSize ? -1 : e.getMethod() == ZipEntry.STORED ? stored : stored * 1032;
        if (size < 0 || size > most) {
            throw new ModelFormatException(bin + ": storage entry " + e.getName() + " declares " + size + " bytes, which its " + stored
                    + " stored bytes (of a " + fileSize + "-byte file) cannot hold: a corrupt or forged zip");
        }
        return size;
    }

    private static MemorySegment readEntry(ZipFile zip, String entry, long byteOffset, long bytes, Path bin, String name) {
        MemorySegment out = Arena.ofAuto().allocate(Math.max(1, bytes), 8).asSlice(0, bytes);
        try (InputStream in = zip.getInputStream(zip.getEntry(entry))) {
            in.skipNBytes(byteOffset);
            byte[] buffer = new byte[1 << 20];
            for (long at = 0; at < bytes; ) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, bytes - at));
                if (n < 0) throw new ModelFormatException(bin + ": tensor " + name + "'s storage ends early");
                MemorySegment.copy(buffer, 0, out, ValueLayout.JAVA_BYTE, at, n);
                at += n;
            }
        } catch (IOException e) {
            throw new ModelFormatException(bin + ": cannot read tensor " + name + ": " + e.getMessage());
        }
        return out;
    }
}
