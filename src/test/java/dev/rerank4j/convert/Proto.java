package dev.rerank4j.convert;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Just enough protobuf writing to add ONNX nodes and initializers to a real model's graph in tests. */
final class Proto {
    private static final int VARINT = 0, FIXED32 = 5, LENGTH_DELIMITED = 2;

    private Proto() {}

    /** A length-delimited field: a message, string or bytes. */
    static byte[] field(int number, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, (long) number << 3 | LENGTH_DELIMITED);
        varint(out, value.length);
        out.writeBytes(value);
        return out.toByteArray();
    }

    static byte[] field(int number, String value) {
        return field(number, value.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] varintField(int number, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        varint(out, (long) number << 3 | VARINT);
        varint(out, value);
        return out.toByteArray();
    }

    /** TensorProto: dims (1), data_type FLOAT (2), name (8), raw_data (9). */
    static byte[] floatTensor(String name, long[] dims, float[] values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long d : dims) out.writeBytes(varintField(1, d));
        out.writeBytes(varintField(2, 1));
        out.writeBytes(field(8, name));
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) raw.putFloat(v);
        out.writeBytes(field(9, raw.array()));
        return out.toByteArray();
    }

    /** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
    static byte[] node(String name, String opType, List<String> inputs, List<String> outputs, byte[]... attributes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String in : inputs) out.writeBytes(field(1, in));
        for (String o : outputs) out.writeBytes(field(2, o));
        out.writeBytes(field(3, name));
        out.writeBytes(field(4, opType));
        for (byte[] a : attributes) out.writeBytes(field(5, a));
        return out.toByteArray();
    }

    /** AttributeProto: name (1), i (3), type INT (20). */
    static byte[] intAttribute(String name, long value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(field(1, name));
        out.writeBytes(varintField(3, value));
        out.writeBytes(varintField(20, 2));
        return out.toByteArray();
    }

    /** AttributeProto: name (1), f (2), type FLOAT (20). */
    static byte[] floatAttribute(String name, float value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(field(1, name));
        varint(out, 2 << 3 | FIXED32);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        out.writeBytes(varintField(20, 1));
        return out.toByteArray();
    }

    /** {@code model} (a ModelProto) with {@code more} appended to its graph (field 7). */
    static byte[] withGraphAppended(byte[] model, byte[] more) {
        int[] pos = {0};
        while (pos[0] < model.length) {
            int fieldStart = pos[0];
            long tag = readVarint(model, pos);
            int wire = (int) (tag & 7);
            if (wire == VARINT) {
                readVarint(model, pos);
            } else if (wire == LENGTH_DELIMITED) {
                int length = (int) readVarint(model, pos);
                if (tag >>> 3 == 7) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream(model.length + more.length);
                    out.write(model, 0, fieldStart);
                    byte[] graph = new byte[length + more.length];
                    System.arraycopy(model, pos[0], graph, 0, length);
                    System.arraycopy(more, 0, graph, length, more.length);
                    out.writeBytes(field(7, graph));
                    out.write(model, pos[0] + length, model.length - pos[0] - length);
                    return out.toByteArray();
                }
                pos[0] += length;
            } else if (wire == FIXED32) {
                pos[0] += 4;
            } else {
                pos[0] += 8;
            }
        }
        throw new IllegalArgumentException("no graph in the model");
    }

    private static void varint(ByteArrayOutputStream out, long value) {
        while ((value & ~0x7FL) != 0) {
            out.write((int) (value & 0x7F) | 0x80);
            value >>>= 7;
        }
        out.write((int) value);
    }

    private static long readVarint(byte[] bytes, int[] pos) {
        long value = 0;
        for (int shift = 0; ; shift += 7) {
            byte b = bytes[pos[0]++];
            value |= (long) (b & 0x7F) << shift;
            if (b >= 0) return value;
        }
    }
}
