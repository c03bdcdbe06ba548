package dev.rerank4j;

/**
 * A model file (safetensors, config.json, tokenizer.json, ONNX) is malformed, hostile or does not
 * match what the model needs. The message names the file, the tensor or field, what was expected
 * and what was found.
 */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
