package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.SafeTensors;
import dev.rerank4j.io.TemporaryFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The weights of a model directory (or of a sentence-transformers module folder), in the first of these it has:
 * <ol>
 *   <li>model.safetensors, mapped;</li>
 *   <li>model.safetensors.index.json and its shards;</li>
 *   <li>pytorch_model.bin, read by {@link TorchCheckpoint} (which runs nothing the pickle names);</li>
 *   <li>pytorch_model.bin.index.json and its shards.</li>
 * </ol>
 * Safetensors shards are each mapped where they lie, as one {@link SafeTensors}. A PyTorch checkpoint is converted: written
 * as one safetensors file in {@code java.io.tmpdir}, mapped, and deleted at once. Either way the directory is left as it
 * was and the weights stay in the page cache, not on the heap or in direct memory. Errors name the file the directory
 * holds (the index, for shards; the shard, for an error about one of its tensors). A directory in another file system than
 * the default one (a zip or jar file system) has its safetensors files mapped from copies in {@code java.io.tmpdir}
 * (see {@link SafeTensors}); a PyTorch checkpoint there is refused, with what to do instead.
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
     * @throws UncheckedIOException if the copy of a PyTorch checkpoint cannot be written (a full temporary directory, say)
     * @throws IllegalArgumentException if the weights are a PyTorch checkpoint in a file system other than the default one
     */
    public static SafeTensors open(Path dir) {
        String name = FILES.stream().filter(f -> Files.isRegularFile(dir.resolve(f))).findFirst()
                .orElseThrow(() -> new ModelFormatException(dir + ": missing " + OnnxConverter.WEIGHTS_FILE + " (nor is there a "
                        + TorchCheckpoint.FILE + ", or an index of shards of either)" + onnxHint(dir)));
        Path source = dir.resolve(name);
        boolean pytorch = name.equals(TorchCheckpoint.FILE) || name.equals(ShardIndex.PYTORCH);
        if (pytorch && source.getFileSystem() != FileSystems.getDefault()) {
            // the checkpoint is a zip read through java.util.zip.ZipFile, which takes only a File
            throw new IllegalArgumentException(source + ": a PyTorch checkpoint is read only from the default file system, and this"
                    + " one is in a " + source.toUri().getScheme() + " file system: convert it once (`rerank convert --pytorch DIR`"
                    + " writes model.safetensors beside it) and ship model.safetensors, which loads from there too");
        }
        return switch (name) {
            case OnnxConverter.WEIGHTS_FILE -> SafeTensors.open(source);
            case ShardIndex.SAFETENSORS -> mapShards(source);
            case TorchCheckpoint.FILE -> throughCopy(dir, source, out -> TorchCheckpoint.write(source, out));
            default -> {
                List<Path> shards = ShardIndex.shards(source);
                yield throughCopy(dir, source, out -> TorchCheckpoint.write(shards, out));
            }
        };
    }

    /** Many model repositories offer ONNX exports beside (or instead of) the weights this class reads: say what to do. */
    private static String onnxHint(Path dir) {
        boolean onnx = Files.isRegularFile(dir.resolve("model.onnx")) || Files.isRegularFile(dir.resolve("onnx").resolve("model.onnx"));
        return !onnx ? "" : "; its ONNX file is not read: take the model's safetensors or PyTorch weights (an ONNX repository is"
                + " often the export of a model that has them), or turn a BERT ONNX export into a model directory with `rerank convert"
                + " --onnx FILE --out DIR`";
    }

    private static SafeTensors throughCopy(Path dir, Path source, Copy copy) {
        long started = System.nanoTime();
        Path file = null;
        try {
            file = TemporaryFiles.track(Files.createTempFile("rerank4j-", ".safetensors"));
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
            if (file != null) TemporaryFiles.deleteMapped(file);
        }
    }

    /**
     * The shards {@code index} names, mapped in place: a merged copy would write the whole model again on every load (16 GB
     * for Qwen3-Reranker-8B), and fail where the temporary directory is small.
     */
    private static SafeTensors mapShards(Path index) {
        Map<String, Path> shardOf = ShardIndex.weightMap(index);
        SafeTensors weights = SafeTensors.openShards(index, ShardIndex.shardsOf(shardOf));
        try {
            // Only what the index lists is checked: transformers loads every tensor of the shards it opens, and a
            // checkpoint edited by hand (a head added to a shard) often leaves the index behind.
            shardOf.forEach((tensor, shard) -> {
                if (!shard.equals(weights.fileOf(tensor))) {
                    throw new ModelFormatException(index + ": tensor '" + tensor + "' is mapped to " + shard.getFileName()
                            + ", which does not hold it");
                }
            });
            return weights;
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }
}
