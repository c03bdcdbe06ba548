package dev.rerank4j.model;

import dev.rerank4j.Golden;
import dev.rerank4j.backend.cpu.CpuBackend;
import dev.rerank4j.io.ModelConfig;
import dev.rerank4j.io.SafeTensors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Encoder scratch is given back on close and taken again by later calls, never by two calls at once. */
class EncoderScratchTest {
    private static SafeTensors weights;
    private static CpuBackend backend;
    private static Encoder encoder;

    @BeforeAll
    static void load() throws IOException {
        Path dir = Golden.path("bert-tiny-ce");
        weights = SafeTensors.open(dir.resolve("model.safetensors"));
        backend = new CpuBackend(1);
        encoder = Model.load(dir, ModelConfig.read(dir.resolve("config.json")), weights, backend).encoder();
    }

    @AfterAll
    static void close() {
        backend.close();
        weights.close();
    }

    @Test
    void aClosedScratchIsTakenAgainByACallItFits() {
        Encoder.Scratch first = encoder.scratch(100);
        first.close();
        try (Encoder.Scratch second = encoder.scratch(90)) {
            assertSame(first.hidden(), second.hidden());
        }
    }

    @Test
    void twoOpenScratchesAreNeverTheSame() {
        try (Encoder.Scratch a = encoder.scratch(100); Encoder.Scratch b = encoder.scratch(100)) {
            assertNotSame(a.hidden(), b.hidden());
        }
    }

    @Test
    void aLargerCallReplacesTheIdleScratchItPassesOver() {
        Encoder.Scratch small = encoder.scratch(64);
        small.close();
        Encoder.Scratch large = encoder.scratch(1000);
        assertNotSame(small.hidden(), large.hidden());
        assertTrue(large.capacity() >= 1000 && large.capacity() <= 1125, "capacity " + large.capacity());
        large.close();
        try (Encoder.Scratch next = encoder.scratch(64)) {
            assertSame(large.hidden(), next.hidden(), "the small one was dropped, the large one serves smaller calls");
        }
    }

    @Test
    void closingTwiceGivesBackOnce() {
        Encoder.Scratch s = encoder.scratch(50);
        s.close();
        s.close();
        try (Encoder.Scratch a = encoder.scratch(50); Encoder.Scratch b = encoder.scratch(50)) {
            assertSame(s.hidden(), a.hidden());
            assertNotSame(a.hidden(), b.hidden());
        }
    }

    /** A late second close of a scratch whose arrays another call has taken since must not lend them twice. */
    @Test
    void aLateSecondCloseDoesNotLendTheArraysOfTheNextCall() {
        Encoder.Scratch s = encoder.scratch(40);
        s.close();
        try (Encoder.Scratch next = encoder.scratch(40)) {
            assertSame(s.hidden(), next.hidden());
            s.close();
            try (Encoder.Scratch other = encoder.scratch(40)) {
                assertNotSame(next.hidden(), other.hidden());
            }
        }
    }

    /**
     * Calls running at once each give their arrays back; the encoder keeps as many as one call takes (one per lane, and
     * this backend has one), not one set per concurrent caller for as long as the heap allows.
     */
    @Test
    void keepsNoMoreIdleScratchThanOneCallTakesAfterCallsRanAtOnce() {
        List<Encoder.Scratch> atOnce = new ArrayList<>();
        for (int i = 0; i < 5; i++) atOnce.add(encoder.scratch(30));
        atOnce.forEach(Encoder.Scratch::close);
        List<Encoder.Scratch> again = new ArrayList<>();
        for (int i = 0; i < 5; i++) again.add(encoder.scratch(30));
        try {
            long reused = again.stream().filter(s -> atOnce.stream().anyMatch(c -> c.hidden() == s.hidden())).count();
            assertEquals(1, reused, "arrays kept after 5 calls at once on one lane");
            assertSame(atOnce.getLast().hidden(), again.getFirst().hidden(), "the last given back is the one kept");
        } finally {
            again.forEach(Encoder.Scratch::close);
        }
    }

    @Test
    void capacityIsRoundedUpByAtMostAnEighth() {
        assertEquals(0, Encoder.roundUp(0));
        assertEquals(1, Encoder.roundUp(1));
        assertEquals(104, Encoder.roundUp(100));
        assertEquals(4608, Encoder.roundUp(4448));
        assertEquals(8192, Encoder.roundUp(8192));
        for (int n = 1; n < 70_000; n += 7) {
            int r = Encoder.roundUp(n);
            assertTrue(r >= n && r <= n + n / 8, n + " → " + r);
        }
        assertThrows(IllegalArgumentException.class, () -> encoder.scratch(-1));
    }
}
