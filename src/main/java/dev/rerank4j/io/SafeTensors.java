package dev.rerank4j.io;

/** Placeholder: the reader lands in the next commit (API: open(Path), tensor(name), find(name), names(), metadata(), close()). */
final class SafeTensors {
    private SafeTensors() {}
}
