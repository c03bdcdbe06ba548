package dev.rerank4j.backend;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DocumentLayoutTest {
    @Test
    void storesFullBlocksDimMajorAndTheRestRowMajor() {
        // row t of document 0 is (t, 100 + t); document 1 starts at row 12
        int dim = 2;
        int[] offsets = {0, 12, 15};
        float[] v = new float[15 * dim];
        for (int t = 0; t < 15; t++) {
            v[t * dim] = t;
            v[t * dim + 1] = 100 + t;
        }
        DocumentLayout.interleave(v, offsets, dim);
        float[] want = {
                0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 107, // block: d = 0, then d = 1
                8, 108, 9, 109, 10, 110, 11, 111, // the four rows after it
                12, 112, 13, 113, 14, 114}; // a document shorter than a block
        assertArrayEquals(want, v);
        assertEquals(8, DocumentLayout.ROWS);
    }

    @Test
    void givesBackTheRowsOfEveryDocument() {
        int dim = 7;
        int[] lengths = {0, 7, 8, 9, 25, 180, 1};
        int[] offsets = new int[lengths.length + 1];
        for (int k = 0; k < lengths.length; k++) offsets[k + 1] = offsets[k] + lengths[k];
        float[] rows = new float[offsets[lengths.length] * dim];
        Random rnd = new Random(3);
        for (int i = 0; i < rows.length; i++) rows[i] = rnd.nextFloat();
        float[] laidOut = rows.clone();
        DocumentLayout.interleave(laidOut, offsets, dim);
        for (int k = 0; k < lengths.length; k++) { // the documents tile the array, so this covers every float
            assertArrayEquals(Arrays.copyOfRange(rows, offsets[k] * dim, offsets[k + 1] * dim),
                    DocumentLayout.rows(laidOut, offsets[k], lengths[k], dim), "document " + k);
        }
    }
}
