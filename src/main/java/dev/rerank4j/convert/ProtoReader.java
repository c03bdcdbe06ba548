package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A cursor over one protobuf message (wire format only: varints, fixed 32/64-bit values and
 * length-delimited fields) in a mapped or heap segment. Nested messages are read by sub-cursors that
 * share the segment, so nothing is copied except the strings the caller asks for.
 *
 * <p>Every read is bounds-checked against the enclosing message; a malformed file throws
 * {@link ModelFormatException} naming the file, the byte offset and what was wrong.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int START_GROUP = 3;
    static final int END_GROUP = 4;
    static final int FIXED32 = 5;

    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment data;
    private final String context;
    private long pos;
    private final long limit;

    ProtoReader(Path file, MemorySegment data, String context) {
        this(file, data, 0, data.byteSize(), context);
    }

    private ProtoReader(Path file, MemorySegment data, long start, long limit, String context) {
        this.file = file;
        this.data = data;
        this.pos = start;
        this.limit = limit;
        this.context = context;
    }

    boolean hasMore() {
        return pos < limit;
    }

    long position() {
        return pos;
    }

    /** Reads a field key; returns {@code fieldNumber << 3 | wireType}. */
    int readTag() {
        long start = pos;
        long key = readVarint();
        int wireType = (int) (key & 7);
        long field = key >>> 3;
        if (field == 0 || field > 0x1fffffffL) {
            throw error(start, "invalid field number " + field);
        }
        if (wireType == 6 || wireType == 7) {
            throw error(start, "invalid wire type " + wireType + " for field " + field);
        }
        return (int) key;
    }

    static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    static int wireType(int tag) {
        return tag & 7;
    }

    long readVarint() {
        long start = pos;
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= limit) {
                throw error(start, "truncated varint");
            }
            byte b = data.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return result;
            }
        }
        throw error(start, "varint longer than 10 bytes");
    }

    int readFixed32() {
        require(4, "fixed32");
        int v = data.get(I32_LE, pos);
        pos += 4;
        return v;
    }

    long readFixed64() {
        require(8, "fixed64");
        long v = data.get(I64_LE, pos);
        pos += 8;
        return v;
    }

    /** Reads a length prefix and returns the bytes it covers as a slice of the file (no copy). */
    MemorySegment readBytes() {
        long length = readLength();
        MemorySegment slice = data.asSlice(pos, length);
        pos += length;
        return slice;
    }

    String readString() {
        return new String(readBytes().toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** Reads a length-delimited nested message and returns a cursor over it. */
    ProtoReader readMessage(String nestedContext) {
        long length = readLength();
        ProtoReader nested = new ProtoReader(file, data, pos, pos + length, nestedContext);
        pos += length;
        return nested;
    }

    private long readLength() {
        long start = pos;
        long length = readVarint();
        if (length < 0 || length > limit - pos) {
            throw error(start, "field length " + length + " goes beyond the end of the enclosing "
                    + context + " (" + (limit - pos) + " bytes left)");
        }
        return length;
    }

    /** Skips a field's value of the given wire type. */
    void skip(int tag) {
        switch (wireType(tag)) {
            case VARINT -> readVarint();
            case FIXED64 -> { require(8, "fixed64"); pos += 8; }
            case LENGTH_DELIMITED -> {
                long length = readLength(); // not `pos += readLength()`: that would add to the old pos
                pos += length;
            }
            case FIXED32 -> { require(4, "fixed32"); pos += 4; }
            default -> throw error(pos, "unsupported wire type " + wireType(tag) + " (groups) for field " + fieldNumber(tag));
        }
    }

    /** Checks a field arrived with the wire type the schema says. */
    void expect(int tag, int wireType, String fieldName) {
        if (wireType(tag) != wireType) {
            throw error(pos, context + "." + fieldName + " has wire type " + wireType(tag) + ", expected " + wireType);
        }
    }

    private void require(long n, String what) {
        if (limit - pos < n) {
            throw error(pos, "truncated " + what + " (" + (limit - pos) + " bytes left in " + context + ")");
        }
    }

    ModelFormatException error(String message) {
        return error(pos, message);
    }

    ModelFormatException error(long at, String message) {
        return new ModelFormatException(file + ": " + message + " at byte " + at + " (in " + context + ")");
    }
}
