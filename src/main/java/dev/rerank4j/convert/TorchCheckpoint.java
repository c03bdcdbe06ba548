package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.SafeTensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch state dict as {@code torch.save} writes it since PyTorch 1.6 ({@code pytorch_model.bin}: a zip of
 * {@code <root>/data.pkl} and one entry {@code <root>/data/<key>} per storage), turned into the
 * {@code model.safetensors} rerank4j loads. The pickle is read by {@link Unpickler}, which runs nothing it names.
 *
 * <p>Floating-point tensors (F32, F16, BF16) are written as they are stored; the integer buffers transformers keeps
 * in a state dict ({@code position_ids}, {@code token_type_ids}) are left out, since loading never reads them; any
 * other tensor of another type is refused. Tied weights (two names, one storage) are written once each.
 */
public final class TorchCheckpoint {
    public static final String FILE = "pytorch_model.bin";

    private static final Map<String, DType> FLOAT_TYPES = Map.of("float32", DType.F32, "float16", DType.F16, "bfloat16", DType.BF16);
    private static final List<String> SKIPPED_BUFFERS = List.of("position_ids", "token_type_ids");

    private TorchCheckpoint() {}

    /**
     * Writes {@code dir/model.safetensors} from {@code dir/pytorch_model.bin}: to a temporary file in {@code dir}, then
     * renamed, so an interrupted conversion leaves no partial model.safetensors.
     *
     * @return the tensors written, by name
     * @throws IllegalArgumentException if there is no pytorch_model.bin, or model.safetensors exists already
     * @throws ModelFormatException if the file is not a state dict this reads (the message says what was found)
     */
    public static Map<String, long[]> convert(Path dir) throws IOException {
        Path bin = dir.resolve(FILE), out = dir.resolve(OnnxConverter.WEIGHTS_FILE);
        if (!Files.isRegularFile(bin)) throw new IllegalArgumentException("no " + FILE + " in " + dir);
        if (Files.exists(out)) throw new IllegalArgumentException(out + " exists already");
        requireZip(bin);
        Path tmp = Files.createTempFile(dir, "." + OnnxConverter.WEIGHTS_FILE + ".tmp-", "");
        boolean moved = false;
        try (ZipFile zip = open(bin)) {
            String root = root(zip, bin);
            Map<String, Unpickler.TensorRef> tensors = stateDict(zip, root, bin);
            SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt").metadata("converted_from", FILE);
            Map<String, long[]> written = new LinkedHashMap<>();
            for (Map.Entry<String, Unpickler.TensorRef> e : tensors.entrySet()) {
                String name = e.getKey();
                Unpickler.TensorRef t = e.getValue();
                DType dtype = FLOAT_TYPES.get(t.storage().dtype());
                if (dtype == null) {
                    if (SKIPPED_BUFFERS.stream().anyMatch(name::endsWith)) continue;
                    throw new ModelFormatException(bin + ": tensor " + name + " is " + t.storage().dtype()
                            + "; rerank4j reads F32, F16 and BF16 weights");
                }
                long bytes = requireInStorage(bin, name, t, dtype, zip, root);
                writer.add(name, dtype, t.shape(), () -> read(zip, root, t, dtype, bytes, bin, name));
                written.put(name, t.shape());
            }
            if (written.isEmpty()) throw new ModelFormatException(bin + ": the state dict holds no floating-point tensor");
            writer.write(tmp);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            return written;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** The pre-1.6 format is a stream of pickles, not a zip: say so rather than "not a zip". */
    private static void requireZip(Path bin) throws IOException {
        byte[] head = new byte[2];
        try (InputStream in = Files.newInputStream(bin)) {
            if (in.readNBytes(head, 0, 2) == 2 && head[0] == 'P' && head[1] == 'K') return;
        }
        if ((head[0] & 0xff) == 0x80) {
            throw new ModelFormatException(bin + ": written by torch.save before PyTorch 1.6 (the legacy format), which this"
                    + " does not read: load it and save it again with PyTorch 1.6 or later, or save the model with"
                    + " safetensors (save_pretrained(dir, safe_serialization=True))");
        }
        throw new ModelFormatException(bin + ": not a PyTorch checkpoint (it is neither a zip nor a pickle)");
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

    private static Map<String, Unpickler.TensorRef> stateDict(ZipFile zip, String root, Path bin) throws IOException {
        ZipEntry byteOrder = zip.getEntry(root + "byteorder");
        if (byteOrder != null) {
            try (InputStream in = zip.getInputStream(byteOrder)) {
                String order = new String(in.readNBytes(16), java.nio.charset.StandardCharsets.US_ASCII).trim();
                if (!order.equals("little")) throw new ModelFormatException(bin + ": storages are " + order + "-endian; rerank4j reads little-endian");
            }
        }
        ZipEntry pkl = zip.getEntry(root + "data.pkl");
        if (pkl.getSize() > 64L << 20) throw new ModelFormatException(bin + ": data.pkl is " + pkl.getSize() + " bytes, more than a state dict's");
        byte[] pickle;
        try (InputStream in = zip.getInputStream(pkl)) {
            pickle = in.readNBytes(64 << 20);
        }
        Object dict = Unpickler.load(ByteBuffer.wrap(pickle), bin + " (" + root + "data.pkl)");
        if (!(dict instanceof Map<?, ?> map)) {
            throw new ModelFormatException(bin + ": the pickle holds " + dict.getClass().getSimpleName() + ", not a state dict (a dict of tensors)"
                    + " (a whole pickled model is not read: save model.state_dict())");
        }
        Map<String, Unpickler.TensorRef> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof Unpickler.TensorRef t)) {
                throw new ModelFormatException(bin + ": the state dict maps " + e.getKey() + " to " + e.getValue() + ", not a name to a tensor");
            }
            tensors.put(name, t);
        }
        return tensors;
    }

    /** The tensor's bytes, checked to be row-major and inside its storage's entry. */
    private static long requireInStorage(Path bin, String name, Unpickler.TensorRef t, DType dtype, ZipFile zip, String root) {
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
        if (t.offset() + elements > t.storage().size()) {
            throw new ModelFormatException(bin + ": tensor " + name + " needs elements " + t.offset() + " to " + (t.offset() + elements)
                    + " of a storage of " + t.storage().size());
        }
        ZipEntry data = zip.getEntry(root + "data/" + t.storage().key());
        long storageBytes = Math.multiplyExact(t.storage().size(), dtype.byteSize());
        if (data == null || data.getSize() < storageBytes) {
            throw new ModelFormatException(bin + ": tensor " + name + "'s storage " + root + "data/" + t.storage().key()
                    + (data == null ? " is missing" : " holds " + data.getSize() + " bytes, not " + storageBytes));
        }
        return Math.multiplyExact(elements, dtype.byteSize());
    }

    private static MemorySegment read(ZipFile zip, String root, Unpickler.TensorRef t, DType dtype, long bytes, Path bin, String name) {
        MemorySegment out = Arena.ofAuto().allocate(Math.max(1, bytes), 8).asSlice(0, bytes);
        try (InputStream in = zip.getInputStream(zip.getEntry(root + "data/" + t.storage().key()))) {
            in.skipNBytes(t.offset() * dtype.byteSize());
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
