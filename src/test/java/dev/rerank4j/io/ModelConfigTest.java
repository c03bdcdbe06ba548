package dev.rerank4j.io;

import dev.rerank4j.ModelFormatException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How config.json's fields are read where transformers' config classes differ between model types. */
class ModelConfigTest {
    private static ModelConfig config(String modelType, String extraField) {
        Map<String, Object> json = Json.parseObject("{\"model_type\": \"" + modelType + "\", \"hidden_size\": 256,"
                + " \"num_attention_heads\": 4, \"num_hidden_layers\": 2, \"intermediate_size\": 1024, \"vocab_size\": 100,"
                + " \"max_position_embeddings\": 512" + extraField + "}");
        return ModelConfig.fromJson(json, "config.json");
    }

    @Test
    void electraReadsItsEmbeddingWidth() {
        ModelConfig c = config("electra", ", \"embedding_size\": 128");
        assertEquals(128, c.embeddingSize());
        assertTrue(c.projectsEmbeddings());
        assertFalse(config("electra", ", \"embedding_size\": 256").projectsEmbeddings());
    }

    @Test
    void electraWithoutTheFieldTakesElectraConfigsDefaultOf128() {
        assertEquals(128, config("electra", "").embeddingSize());
    }

    @Test
    void otherModelTypesIgnoreTheFieldAsTheirConfigClassesDo() {
        ModelConfig c = config("bert", ", \"embedding_size\": 128");
        assertEquals(256, c.embeddingSize());
        assertFalse(c.projectsEmbeddings());
    }

    @Test
    void aZeroEmbeddingWidthIsNamed() {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> config("electra", ", \"embedding_size\": 0"));
        assertTrue(e.getMessage().contains("'embedding_size' must be positive"), e.getMessage());
    }

    @Test
    void anXlmRobertaPadIdThatLeavesNoPositionIsNamedWithoutOverflowing() {
        assertEquals(2, config("xlm-roberta", ", \"pad_token_id\": 1").positionOffset());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> config("xlm-roberta", ", \"pad_token_id\": 2147483647"));
        assertTrue(e.getMessage().contains("max_position_embeddings 512 leaves no position for a token: xlm-roberta positions start at"
                + " pad_token_id + 1 = 2147483648"), e.getMessage());
    }

    /** is_decoder makes transformers' BERT, RoBERTa, XLM-R and ELECTRA attend causally: refused, not run both ways. */
    @Test
    void aModelTypeRerank4jDoesNotRunIsRefusedByName() {
        for (String type : new String[] {"camembert", "mpnet", "bört"}) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> config(type, ""));
            assertTrue(e.getMessage().contains("model_type '" + type + "' is not one rerank4j runs (supported: bert, roberta,"), e.getMessage());
        }
    }

    @Test
    void aDecoderConfigIsRefusedByName() {
        for (String type : new String[] {"bert", "roberta", "xlm-roberta", "electra"}) {
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> config(type, ", \"is_decoder\": true"));
            assertTrue(e.getMessage().contains("is_decoder true (causal attention in transformers' " + type + ") is not supported"),
                    e.getMessage());
            assertEquals(256, config(type, ", \"is_decoder\": false").hiddenSize());
        }
    }

    /** transformers 5 reads ModernBERT's sliding_window as half of local_attention, the whole window. */
    @Test
    void modernBertsSlidingWindowIsHalfTheLocalWindow() {
        assertEquals(64, config("modernbert", "").modernBert().window(), "local_attention's default of 128");
        assertEquals(4, config("modernbert", ", \"sliding_window\": 4").modernBert().window());
        assertEquals(4, config("modernbert", ", \"sliding_window\": 4, \"local_attention\": 8").modernBert().window());
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> config("modernbert", ", \"sliding_window\": 4, \"local_attention\": 128"));
        assertTrue(e.getMessage().contains("local_attention 128 and sliding_window 4 (half a window) disagree"), e.getMessage());
    }

    /** transformers 5 writes neither num_labels nor id2label for its default of two labels: that is two, not none. */
    @Test
    void noLabelFieldsMeanTransformersDefaultOfTwo() {
        assertEquals(2, config("bert", "").numLabels());
        assertEquals(1, config("bert", ", \"num_labels\": 1").numLabels());
        assertEquals(3, config("bert", ", \"id2label\": {\"0\": \"a\", \"1\": \"b\", \"2\": \"c\"}").numLabels());
    }

    /** An absent type_vocab_size is the config class's default: 2 for BERT, RoBERTa, XLM-R and ELECTRA, 0 for DeBERTa-v2. */
    @Test
    void anAbsentTypeVocabularyIsTheConfigClassDefault() {
        assertEquals(2, config("bert", "").typeVocabSize());
        assertEquals(2, config("xlm-roberta", "").typeVocabSize());
        assertEquals(2, config("electra", "").typeVocabSize());
        assertEquals(1, config("bert", ", \"type_vocab_size\": 1").typeVocabSize());
    }
}
