package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.DType;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.SafeTensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The weights of a model directory (or of a sentence-transformers module folder), in the first of these it has:
 * <ol>
 *   <li>model.safetensors, mapped;</li>
 *   <li>model.safetensors.index.json and its shards;</li>
 *   <li>pytorch_model.bin, read by {@link TorchCheckpoint} (which runs nothing the pickle names);</li>
 *   <li>pytorch_model.bin.index.json and its shards.</li>
 * </ol>
 * All but the first are written as one safetensors file in {@code java.io.tmpdir}, mapped, and deleted at once, so the
 * directory is left as it was and the weights stay in the page cache, not on the heap or in direct memory. Errors name
 * the file the directory holds.
 */
public final class ModelWeights {
    private static final System.Logger LOG = System.getLogger(ModelWeights.class.getName());

    private ModelWeights() {}

    private interface Copy {
        void write(Path out) throws IOException;
    }

    /** A folder's weights, in the order they are taken: the first one the folder has is read. */
    public static final List<String> FILES = List.of(OnnxConverter.WEIGHTS_FILE, ShardIndex.SAFETENSORS, TorchCheckpoint.FILE,
            ShardIndex.PYTORCH);

    /**
     * @throws ModelFormatException if the directory has none of the four, or the one it has is malformed
     * @throws UncheckedIOException if the copy cannot be written (a full temporary directory, say)
     */
    public static SafeTensors open(Path dir) {
        String name = FILES.stream().filter(f -> Files.isRegularFile(dir.resolve(f))).findFirst()
                .orElseThrow(() -> new ModelFormatException(dir + ": missing " + OnnxConverter.WEIGHTS_FILE + " (nor is there a "
                        + TorchCheckpoint.FILE + ", or an index of shards of either)"));
        Path source = dir.resolve(name);
        return switch (name) {
            case OnnxConverter.WEIGHTS_FILE -> SafeTensors.open(source);
            case ShardIndex.SAFETENSORS -> {
                List<Path> shards = ShardIndex.shards(source);
                yield throughCopy(dir, source, out -> merge(shards, out));
            }
            case TorchCheckpoint.FILE -> throughCopy(dir, source, out -> TorchCheckpoint.write(source, out));
            default -> {
                List<Path> shards = ShardIndex.shards(source);
                yield throughCopy(dir, source, out -> TorchCheckpoint.write(shards, out));
            }
        };
    }

    private static SafeTensors throughCopy(Path dir, Path source, Copy copy) {
        long started = System.nanoTime();
        Path file = null;
        try {
            file = Files.createTempFile("rerank4j-", ".safetensors");
            copy.write(file);
            SafeTensors weights = SafeTensors.open(file, source);
            long bytes = Files.size(file);
            Path tmpDir = file.getParent();
            LOG.log(System.Logger.Level.INFO, () -> String.format("read %s through a safetensors copy in %s (%.1f MB, %.0f ms; deleted once"
                    + " mapped)%s", source, tmpDir, bytes / 1e6, (System.nanoTime() - started) / 1e6, source.getFileName().toString()
                    .equals(TorchCheckpoint.FILE) ? ": `rerank convert --pytorch " + dir + "` writes model.safetensors beside it once,"
                    + " and later loads map that" : ""));
            return weights;
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": cannot write its safetensors copy in " + System.getProperty("java.io.tmpdir") + ": "
                    + e.getMessage() + " (set java.io.tmpdir elsewhere)", e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file); // the mapping keeps the data; on a system that refuses, it goes at exit
                } catch (IOException e) {
                    file.toFile().deleteOnExit();
                }
            }
        }
    }

    /** The tensors of safetensors shards, in one file; those of dtypes rerank4j never computes with are left out. */
    private static void merge(List<Path> shards, Path out) throws IOException {
        List<SafeTensors> open = new ArrayList<>();
        try {
            SafeTensorsWriter writer = new SafeTensorsWriter().metadata("format", "pt").metadata("converted_from", ShardIndex.SAFETENSORS);
            java.util.Set<String> added = new java.util.HashSet<>();
            for (Path shard : shards) {
                SafeTensors st = SafeTensors.open(shard);
                open.add(st);
                for (String name : st.names()) {
                    SafeTensors.Raw raw = st.raw(name).orElseThrow();
                    Optional<DType> dtype = DType.fromSafetensorsName(raw.dtype());
                    if (dtype.isEmpty()) continue;
                    if (!added.add(name)) throw new ModelFormatException(shard + ": tensor " + name + " is in another shard too");
                    writer.add(name, dtype.get(), raw.shape(), raw.bytes());
                }
            }
            writer.write(out);
        } finally {
            for (SafeTensors st : open) st.close();
        }
    }
}
