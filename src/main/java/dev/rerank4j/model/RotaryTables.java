package dev.rerank4j.model;

import dev.rerank4j.backend.Backend;
import dev.rerank4j.backend.RotaryTable;

/**
 * A model's RoPE tables, one per base θ, for at least the longest sequence seen: they start at {@link #FIRST_POSITIONS}
 * and grow to twice their size or more when a longer input arrives, so that a hostile max_position_embeddings costs
 * nothing until inputs that long come. Tables are immutable; a call may build new ones while another uses the old.
 */
final class RotaryTables {
    /** Positions the first tables hold; 8,192 take 2 MB a table at head_dim 64. */
    static final int FIRST_POSITIONS = 256;

    private final Backend backend;
    private final int headDim;
    private final int maxPositions;
    private final double[] thetas;
    private volatile RotaryTable[] tables;

    RotaryTables(Backend backend, int headDim, int maxPositions, double... thetas) {
        this.backend = backend;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        this.thetas = thetas.clone();
        this.tables = build(Math.min(FIRST_POSITIONS, maxPositions));
    }

    private RotaryTable[] build(int positions) {
        RotaryTable[] built = new RotaryTable[thetas.length];
        for (int i = 0; i < thetas.length; i++) {
            built[i] = RotaryTable.of(headDim, thetas[i], positions);
            backend.keepOnDevice(built[i].cos()); // uploaded once, not with every call
            backend.keepOnDevice(built[i].sin());
        }
        return built;
    }

    /** Tables, in the order of the θs, for sequences of up to {@code longest} tokens (at most max_position_embeddings). */
    RotaryTable[] forLength(int longest) {
        RotaryTable[] current = tables;
        if (current[0].positions() >= longest) return current;
        synchronized (this) {
            if (tables[0].positions() < longest) {
                tables = build((int) Math.min(maxPositions, Math.max(longest, 2L * tables[0].positions())));
            }
            return tables;
        }
    }
}
