package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The parts of an ONNX model (a protobuf {@code ModelProto}) a converter needs: the graph's
 * initializers, nodes (with their attributes, tensor-valued ones included), inputs and outputs.
 *
 * <p>The file is memory-mapped; initializer bytes stored as {@code raw_data} stay slices of the
 * mapping, so opening a 90 MB model costs a few hundred KB of heap. Tensor segments are valid until
 * {@link #close()}. Only the wire format is read, by this package's own code: no protobuf library.
 * A malformed file throws {@link ModelFormatException} naming the file and what was wrong.
 */
public final class OnnxModel implements AutoCloseable {
    /** ONNX {@code TensorProto.DataType} values. */
    public static final int FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5, INT32 = 6, INT64 = 7,
            STRING = 8, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16;

    /** ONNX {@code AttributeProto.AttributeType} values. */
    public static final int ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4, ATTR_FLOATS = 6, ATTR_INTS = 7;

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A tensor (initializer or Constant value). {@code data} holds the elements little-endian,
     * row-major, or is null when the data type is one this reader does not decode.
     */
    public record OnnxTensor(Path file, String name, int dataType, long[] dims, MemorySegment data) {
        public long elementCount() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        /** Element {@code i} as a float (FLOAT, FLOAT16, BFLOAT16, DOUBLE). */
        public float floatAt(long i) {
            return switch (dataType) {
                case FLOAT -> bytes().getAtIndex(F32_LE, i);
                case FLOAT16 -> Float.float16ToFloat(bytes().getAtIndex(I16_LE, i));
                case BFLOAT16 -> Float.intBitsToFloat((bytes().getAtIndex(I16_LE, i) & 0xffff) << 16);
                case DOUBLE -> (float) bytes().getAtIndex(F64_LE, i);
                default -> throw unsupported("a floating-point type");
            };
        }

        /** Element {@code i} as a long (INT64, INT32). */
        public long longAt(long i) {
            return switch (dataType) {
                case INT64 -> bytes().getAtIndex(I64_LE, i);
                case INT32 -> bytes().getAtIndex(I32_LE, i);
                default -> throw unsupported("an integer type");
            };
        }

        public boolean isFloatingPoint() {
            return dataType == FLOAT || dataType == FLOAT16 || dataType == BFLOAT16 || dataType == DOUBLE;
        }

        public boolean isInteger() {
            return dataType == INT64 || dataType == INT32;
        }

        /** The little-endian element bytes; throws for a data type this reader does not decode. */
        public MemorySegment bytes() {
            if (data == null) {
                throw new ModelFormatException(file + ": tensor " + name + " has unsupported data_type "
                        + dataType + " (" + dataTypeName(dataType) + ")");
            }
            return data;
        }

        private ModelFormatException unsupported(String expected) {
            return new ModelFormatException(file + ": tensor " + name + " has data_type " + dataType
                    + " (" + dataTypeName(dataType) + "), expected " + expected);
        }

        @Override
        public long[] dims() {
            return dims.clone();
        }

        @Override
        public String toString() {
            return name + " " + dataTypeName(dataType) + Arrays.toString(dims);
        }
    }

    /** A node attribute; which field is meaningful depends on {@code type}. */
    public record Attribute(String name, int type, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints) {}

    /** A graph node. */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
        public Optional<Attribute> attribute(String attributeName) {
            return Optional.ofNullable(attributes.get(attributeName));
        }

        public String input(int index) {
            return index < inputs.size() ? inputs.get(index) : "";
        }
    }

    /** A graph input or output: name, element type and dims ({@code dim_param} names, or "?" when unknown). */
    public record ValueInfo(String name, int elemType, List<String> dims) {}

    private final Path file;
    private final Arena arena;
    private final long irVersion;
    private final String producerName;
    private final List<OnnxTensor> initializers;
    private final Map<String, OnnxTensor> initializersByName;
    private final List<Node> nodes;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;

    private OnnxModel(Path file, Arena arena, long irVersion, String producerName, List<OnnxTensor> initializers,
                      List<Node> nodes, List<ValueInfo> inputs, List<ValueInfo> outputs) {
        this.file = file;
        this.arena = arena;
        this.irVersion = irVersion;
        this.producerName = producerName;
        this.initializers = List.copyOf(initializers);
        Map<String, OnnxTensor> byName = new LinkedHashMap<>();
        for (OnnxTensor t : initializers) {
            if (byName.put(t.name(), t) != null) {
                throw new ModelFormatException(file + ": initializer " + t.name() + " appears twice");
            }
        }
        this.initializersByName = Collections.unmodifiableMap(byName);
        this.nodes = List.copyOf(nodes);
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
    }

    /** Maps and parses {@code file}. Close the model to unmap it. */
    public static OnnxModel open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(file, data, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static OnnxModel parse(Path file, MemorySegment data, Arena arena) {
        ProtoReader model = new ProtoReader(file, data, "ModelProto");
        long irVersion = 0;
        String producer = "";
        ProtoReader graph = null;
        while (model.hasMore()) {
            int tag = model.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { model.expect(tag, ProtoReader.VARINT, "ir_version"); irVersion = model.readVarint(); }
                case 2 -> { model.expect(tag, ProtoReader.LENGTH_DELIMITED, "producer_name"); producer = model.readString(); }
                case 7 -> { model.expect(tag, ProtoReader.LENGTH_DELIMITED, "graph"); graph = model.readMessage("GraphProto"); }
                default -> model.skip(tag);
            }
        }
        if (graph == null) {
            throw new ModelFormatException(file + ": not an ONNX model: ModelProto has no graph (field 7)");
        }
        List<OnnxTensor> initializers = new ArrayList<>();
        List<Node> nodes = new ArrayList<>();
        List<ValueInfo> inputs = new ArrayList<>();
        List<ValueInfo> outputs = new ArrayList<>();
        while (graph.hasMore()) {
            int tag = graph.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { graph.expect(tag, ProtoReader.LENGTH_DELIMITED, "node"); nodes.add(readNode(file, graph.readMessage("NodeProto"))); }
                case 5 -> { graph.expect(tag, ProtoReader.LENGTH_DELIMITED, "initializer"); initializers.add(readTensor(file, graph.readMessage("TensorProto"))); }
                case 11 -> { graph.expect(tag, ProtoReader.LENGTH_DELIMITED, "input"); inputs.add(readValueInfo(graph.readMessage("ValueInfoProto"))); }
                case 12 -> { graph.expect(tag, ProtoReader.LENGTH_DELIMITED, "output"); outputs.add(readValueInfo(graph.readMessage("ValueInfoProto"))); }
                case 15 -> throw graph.error("sparse initializers are not supported");
                default -> graph.skip(tag);
            }
        }
        return new OnnxModel(file, arena, irVersion, producer, initializers, nodes, inputs, outputs);
    }

    private static Node readNode(Path file, ProtoReader r) {
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        String name = "";
        String opType = "";
        String domain = "";
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "input"); in.add(r.readString()); }
                case 2 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "output"); out.add(r.readString()); }
                case 3 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "name"); name = r.readString(); }
                case 4 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "op_type"); opType = r.readString(); }
                case 5 -> {
                    r.expect(tag, ProtoReader.LENGTH_DELIMITED, "attribute");
                    Attribute a = readAttribute(file, r.readMessage("AttributeProto"));
                    attributes.put(a.name(), a);
                }
                case 7 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "domain"); domain = r.readString(); }
                default -> r.skip(tag);
            }
        }
        return new Node(name, opType, domain, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attributes));
    }

    private static Attribute readAttribute(Path file, ProtoReader r) {
        String name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        String s = null;
        OnnxTensor t = null;
        FloatList floats = new FloatList();
        LongList ints = new LongList();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "name"); name = r.readString(); }
                case 2 -> { r.expect(tag, ProtoReader.FIXED32, "f"); f = Float.intBitsToFloat(r.readFixed32()); }
                case 3 -> { r.expect(tag, ProtoReader.VARINT, "i"); i = r.readVarint(); }
                case 4 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "s"); s = r.readString(); }
                case 5 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "t"); t = readTensor(file, r.readMessage("TensorProto")); }
                case 7 -> readFloats(r, tag, floats);
                case 8 -> readVarints(r, tag, ints);
                case 20 -> { r.expect(tag, ProtoReader.VARINT, "type"); type = (int) r.readVarint(); }
                default -> r.skip(tag);
            }
        }
        return new Attribute(name, type, f, i, s, t, floats.toArray(), ints.toArray());
    }

    private static ValueInfo readValueInfo(ProtoReader r) {
        String name = "";
        int elemType = 0;
        List<String> dims = new ArrayList<>();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "name"); name = r.readString(); }
                case 2 -> {
                    r.expect(tag, ProtoReader.LENGTH_DELIMITED, "type");
                    ProtoReader type = r.readMessage("TypeProto");
                    while (type.hasMore()) {
                        int tt = type.readTag();
                        if (ProtoReader.fieldNumber(tt) != 1 || ProtoReader.wireType(tt) != ProtoReader.LENGTH_DELIMITED) {
                            type.skip(tt);
                            continue;
                        }
                        ProtoReader tensorType = type.readMessage("TypeProto.Tensor");
                        while (tensorType.hasMore()) {
                            int ft = tensorType.readTag();
                            if (ProtoReader.fieldNumber(ft) == 1 && ProtoReader.wireType(ft) == ProtoReader.VARINT) {
                                elemType = (int) tensorType.readVarint();
                            } else if (ProtoReader.fieldNumber(ft) == 2 && ProtoReader.wireType(ft) == ProtoReader.LENGTH_DELIMITED) {
                                readShape(tensorType.readMessage("TensorShapeProto"), dims);
                            } else {
                                tensorType.skip(ft);
                            }
                        }
                    }
                }
                default -> r.skip(tag);
            }
        }
        return new ValueInfo(name, elemType, List.copyOf(dims));
    }

    private static void readShape(ProtoReader shape, List<String> dims) {
        while (shape.hasMore()) {
            int tag = shape.readTag();
            if (ProtoReader.fieldNumber(tag) != 1 || ProtoReader.wireType(tag) != ProtoReader.LENGTH_DELIMITED) {
                shape.skip(tag);
                continue;
            }
            ProtoReader dim = shape.readMessage("TensorShapeProto.Dimension");
            String value = "?";
            while (dim.hasMore()) {
                int dt = dim.readTag();
                if (ProtoReader.fieldNumber(dt) == 1 && ProtoReader.wireType(dt) == ProtoReader.VARINT) {
                    value = Long.toString(dim.readVarint());
                } else if (ProtoReader.fieldNumber(dt) == 2 && ProtoReader.wireType(dt) == ProtoReader.LENGTH_DELIMITED) {
                    value = dim.readString();
                } else {
                    dim.skip(dt);
                }
            }
            dims.add(value);
        }
    }

    private static OnnxTensor readTensor(Path file, ProtoReader r) {
        long start = r.position();
        LongList dims = new LongList();
        int dataType = 0;
        String name = "";
        MemorySegment raw = null;
        FloatList floatData = new FloatList();
        LongList int32Data = new LongList();
        LongList int64Data = new LongList();
        DoubleList doubleData = new DoubleList();
        while (r.hasMore()) {
            int tag = r.readTag();
            switch (ProtoReader.fieldNumber(tag)) {
                case 1 -> readVarints(r, tag, dims);
                case 2 -> { r.expect(tag, ProtoReader.VARINT, "data_type"); dataType = (int) r.readVarint(); }
                case 3 -> throw r.error("segmented tensors (TensorProto.segment) are not supported");
                case 4 -> readFloats(r, tag, floatData);
                case 5 -> readVarints(r, tag, int32Data);
                case 7 -> readVarints(r, tag, int64Data);
                case 8 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "name"); name = r.readString(); }
                case 9 -> { r.expect(tag, ProtoReader.LENGTH_DELIMITED, "raw_data"); raw = r.readBytes(); }
                case 10 -> readDoubles(r, tag, doubleData);
                case 13 -> throw r.error("tensor " + name + " uses external data, which is not supported");
                case 14 -> {
                    r.expect(tag, ProtoReader.VARINT, "data_location");
                    if (r.readVarint() != 0) throw r.error("tensor " + name + " uses external data, which is not supported");
                }
                default -> r.skip(tag);
            }
        }
        long[] shape = dims.toArray();
        long count = 1;
        int size = elementSize(dataType);
        for (long d : shape) {
            if (d < 0) throw r.error(start, "tensor " + name + " has a negative dimension " + Arrays.toString(shape));
            // the bytes, not only the count, must fit a long: [2^61] of INT64 is 2^64 bytes, which wrapped to 0
            if (d > 0 && count > Long.MAX_VALUE / d / Math.max(1, size)) {
                throw r.error(start, "tensor " + name + " " + Arrays.toString(shape) + " is larger than any file");
            }
            count *= d;
        }
        MemorySegment data;
        if (raw != null) {
            data = size > 0 ? raw : null;
        } else if (floatData.size > 0 && dataType == FLOAT) {
            data = MemorySegment.ofArray(new byte[floatData.size * 4]);
            for (int i = 0; i < floatData.size; i++) data.setAtIndex(F32_LE, i, floatData.values[i]);
        } else if (int64Data.size > 0 && dataType == INT64) {
            data = MemorySegment.ofArray(new byte[int64Data.size * 8]);
            for (int i = 0; i < int64Data.size; i++) data.setAtIndex(I64_LE, i, int64Data.values[i]);
        } else if (int32Data.size > 0 && dataType == INT32) {
            data = MemorySegment.ofArray(new byte[int32Data.size * 4]);
            for (int i = 0; i < int32Data.size; i++) data.setAtIndex(I32_LE, i, (int) int32Data.values[i]);
        } else if (int32Data.size > 0 && (dataType == FLOAT16 || dataType == BFLOAT16)) {
            data = MemorySegment.ofArray(new byte[int32Data.size * 2]);
            for (int i = 0; i < int32Data.size; i++) data.setAtIndex(I16_LE, i, (short) int32Data.values[i]);
        } else if (doubleData.size > 0 && dataType == DOUBLE) {
            data = MemorySegment.ofArray(new byte[doubleData.size * 8]);
            for (int i = 0; i < doubleData.size; i++) data.setAtIndex(F64_LE, i, doubleData.values[i]);
        } else if (count == 0 && size > 0) {
            data = MemorySegment.ofArray(new byte[0]);
        } else if (size > 0 && floatData.size + int32Data.size + int64Data.size + doubleData.size == 0) {
            throw r.error(start, "tensor " + name + " " + Arrays.toString(shape) + " has no data");
        } else {
            data = null; // a data type or storage field this reader does not decode; accessors say so
        }
        if (data != null && data.byteSize() != count * size) {
            throw r.error(start, "tensor " + name + " " + dataTypeName(dataType) + Arrays.toString(shape) + " needs "
                    + count * size + " bytes of data, found " + data.byteSize());
        }
        return new OnnxTensor(file, name, dataType, shape, data);
    }

    private static void readVarints(ProtoReader r, int tag, LongList out) {
        if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader packed = r.readMessage("packed varints");
            while (packed.hasMore()) out.add(packed.readVarint());
        } else {
            r.expect(tag, ProtoReader.VARINT, "field " + ProtoReader.fieldNumber(tag));
            out.add(r.readVarint());
        }
    }

    private static void readFloats(ProtoReader r, int tag, FloatList out) {
        if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader packed = r.readMessage("packed floats");
            while (packed.hasMore()) out.add(Float.intBitsToFloat(packed.readFixed32()));
        } else {
            r.expect(tag, ProtoReader.FIXED32, "field " + ProtoReader.fieldNumber(tag));
            out.add(Float.intBitsToFloat(r.readFixed32()));
        }
    }

    private static void readDoubles(ProtoReader r, int tag, DoubleList out) {
        if (ProtoReader.wireType(tag) == ProtoReader.LENGTH_DELIMITED) {
            ProtoReader packed = r.readMessage("packed doubles");
            while (packed.hasMore()) out.add(Double.longBitsToDouble(packed.readFixed64()));
        } else {
            r.expect(tag, ProtoReader.FIXED64, "field " + ProtoReader.fieldNumber(tag));
            out.add(Double.longBitsToDouble(r.readFixed64()));
        }
    }

    /** Bytes per element, or 0 for a data type this reader does not decode. */
    static int elementSize(int dataType) {
        return switch (dataType) {
            case FLOAT, INT32, UINT32 -> 4;
            case UINT8, INT8, BOOL -> 1;
            case UINT16, INT16, FLOAT16, BFLOAT16 -> 2;
            case INT64, DOUBLE, UINT64 -> 8;
            default -> 0;
        };
    }

    public static String dataTypeName(int dataType) {
        return switch (dataType) {
            case FLOAT -> "FLOAT";
            case UINT8 -> "UINT8";
            case INT8 -> "INT8";
            case UINT16 -> "UINT16";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case STRING -> "STRING";
            case BOOL -> "BOOL";
            case FLOAT16 -> "FLOAT16";
            case DOUBLE -> "DOUBLE";
            case UINT32 -> "UINT32";
            case UINT64 -> "UINT64";
            case BFLOAT16 -> "BFLOAT16";
            default -> "data_type " + dataType;
        };
    }

    public Path file() {
        return file;
    }

    public long irVersion() {
        return irVersion;
    }

    public String producerName() {
        return producerName;
    }

    public List<OnnxTensor> initializers() {
        return initializers;
    }

    public Optional<OnnxTensor> initializer(String name) {
        return Optional.ofNullable(initializersByName.get(name));
    }

    public List<Node> nodes() {
        return nodes;
    }

    public List<ValueInfo> inputs() {
        return inputs;
    }

    public List<ValueInfo> outputs() {
        return outputs;
    }

    /** Unmaps the file: tensor data read from this model must not be used afterwards. */
    @Override
    public void close() {
        arena.close();
    }

    private static final class LongList {
        long[] values = new long[4];
        int size;

        void add(long v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        long[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    private static final class FloatList {
        float[] values = new float[4];
        int size;

        void add(float v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }

    private static final class DoubleList {
        double[] values = new double[4];
        int size;

        void add(double v) {
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = v;
        }
    }
}
