package dev.rerank4j.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScratchPoolTest {
    @Test
    void aGivenBackObjectIsTakenAgain() {
        ScratchPool<Object> pool = new ScratchPool<>(Object::new, 4);
        Object a = pool.take(), b = pool.take();
        assertNotSame(a, b);
        pool.give(a);
        assertSame(a, pool.take());
    }

    @Test
    void keepsAtMostItsCapacity() {
        AtomicInteger made = new AtomicInteger();
        ScratchPool<Object> pool = new ScratchPool<>(() -> { made.incrementAndGet(); return new Object(); }, 2);
        Object a = pool.take(), b = pool.take(), c = pool.take();
        pool.give(a);
        pool.give(b);
        pool.give(c); // dropped
        pool.take();
        pool.take();
        assertEquals(3, made.get());
        pool.take();
        assertEquals(4, made.get());
    }

    @Test
    void forEachGivesEveryWorkersScratchBackForTheNextCall() {
        AtomicInteger made = new AtomicInteger();
        ScratchPool<Object> pool = new ScratchPool<>(() -> { made.incrementAndGet(); return new Object(); }, 8);
        ParallelFor pf = new ParallelFor(2);
        try {
            Set<Object> seen = Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
            for (int call = 0; call < 50; call++) pf.forEach(64, pool, (s, item) -> seen.add(s));
            // A helper that starts after the caller has run every item takes a scratch and gives it back unused, so
            // the workers may have made one more than the items saw (this compared the two for equality, and failed
            // once in a full run on 2026-12-05: 2 made, 1 seen).
            assertTrue(!seen.isEmpty() && seen.size() <= made.get(), seen.size() + " seen of " + made.get() + " made");
            assertTrue(made.get() <= 2, made.get() + " made: two workers at most take one each, and every later call reuses them");
        } finally {
            pf.shutdown();
        }
    }
}
