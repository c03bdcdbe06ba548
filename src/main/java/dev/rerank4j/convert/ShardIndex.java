package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import dev.rerank4j.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The index of a sharded checkpoint ({@code model.safetensors.index.json}, {@code pytorch_model.bin.index.json}, as
 * transformers' save_pretrained writes them): its {@code weight_map} names, for each tensor, the shard holding it.
 * Shards are plain file names beside the index; a name that is not (a path, "..") is refused, so a hostile index
 * cannot point the reader, or a download, outside the model's folder.
 */
public final class ShardIndex {
    public static final String SAFETENSORS = "model.safetensors.index.json";
    public static final String PYTORCH = "pytorch_model.bin.index.json";
    private static final Pattern SHARD_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,254}");

    private ShardIndex() {}

    /** The shard file names {@code index} (its JSON text, read from {@code source}) names, each once, in order. */
    public static List<String> shardNames(Map<String, Object> index, Path source) {
        if (!(index.get("weight_map") instanceof Map<?, ?> weightMap) || weightMap.isEmpty()) {
            throw new ModelFormatException(source + ": no weight_map (a JSON object from tensor names to shard files)");
        }
        Set<String> shards = new LinkedHashSet<>();
        for (Map.Entry<?, ?> e : weightMap.entrySet()) {
            if (!(e.getValue() instanceof String shard) || !SHARD_NAME.matcher(shard).matches() || shard.contains("..")) {
                throw new ModelFormatException(source + ": tensor " + e.getKey() + " is mapped to " + e.getValue()
                        + ", not a file name beside the index");
            }
            shards.add(shard);
        }
        return List.copyOf(shards);
    }

    /** The shards of the index file {@code index}, each checked to be a file beside it, each once, in order. */
    static List<Path> shards(Path index) {
        return shardsOf(weightMap(index));
    }

    /** The shards a weight map names, each once, in order. */
    static List<Path> shardsOf(Map<String, Path> weightMap) {
        return List.copyOf(new LinkedHashSet<>(weightMap.values()));
    }

    /** The weight_map of the index file {@code index}: each tensor's shard, checked to be a file beside it. */
    static Map<String, Path> weightMap(Path index) {
        Map<String, Object> json = Json.parseObjectFile(index);
        for (String name : shardNames(json, index)) {
            if (!Files.isRegularFile(index.resolveSibling(name))) throw new ModelFormatException(index + ": shard " + name + " is missing");
        }
        Map<String, Path> shardOf = new LinkedHashMap<>(); // shardNames found weight_map an object of file names
        ((Map<?, ?>) json.get("weight_map")).forEach((tensor, shard) -> shardOf.put((String) tensor, index.resolveSibling((String) shard)));
        return shardOf;
    }
}
