package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.SafeTensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The weights of a model directory (or of a sentence-transformers module folder): its model.safetensors, mapped; else
 * its pytorch_model.bin, read by {@link TorchCheckpoint} (which runs nothing the pickle names) into a temporary
 * safetensors file in {@code java.io.tmpdir} that is mapped and then deleted, so the directory is left as it was and the
 * weights stay in the page cache, not on the heap or in direct memory. Errors name the file the directory holds.
 */
public final class ModelWeights {
    private static final System.Logger LOG = System.getLogger(ModelWeights.class.getName());

    private ModelWeights() {}

    /**
     * @throws ModelFormatException if the directory has neither file, or the one it has is malformed
     * @throws UncheckedIOException if the converted copy cannot be written (a full temporary directory, say)
     */
    public static SafeTensors open(Path dir) {
        Path safetensors = dir.resolve(OnnxConverter.WEIGHTS_FILE), bin = dir.resolve(TorchCheckpoint.FILE);
        if (Files.isRegularFile(safetensors)) return SafeTensors.open(safetensors);
        if (!Files.isRegularFile(bin)) {
            throw new ModelFormatException(dir + ": missing " + OnnxConverter.WEIGHTS_FILE + " (nor is there a " + TorchCheckpoint.FILE + ")");
        }
        long started = System.nanoTime();
        Path copy = null;
        try {
            copy = Files.createTempFile("rerank4j-", ".safetensors");
            TorchCheckpoint.write(bin, copy);
            SafeTensors weights = SafeTensors.open(copy, bin);
            long bytes = Files.size(copy);
            Path tmpDir = copy.getParent();
            LOG.log(System.Logger.Level.INFO, () -> String.format("read %s through a safetensors copy in %s (%.1f MB, %.0f ms; deleted once"
                    + " mapped): `rerank convert --pytorch %s` writes model.safetensors beside it once, and later loads map that",
                    bin, tmpDir, bytes / 1e6, (System.nanoTime() - started) / 1e6, dir));
            return weights;
        } catch (IOException e) {
            throw new UncheckedIOException(bin + ": cannot write its safetensors copy in " + System.getProperty("java.io.tmpdir") + ": "
                    + e.getMessage() + " (set java.io.tmpdir elsewhere, or run `rerank convert --pytorch " + dir + "`)", e);
        } finally {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy); // the mapping keeps the data; on a system that refuses, it goes at exit
                } catch (IOException e) {
                    copy.toFile().deleteOnExit();
                }
            }
        }
    }
}
