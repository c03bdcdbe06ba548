package dev.rerank4j.convert;

import dev.rerank4j.ModelFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the pickle of a PyTorch state dict ({@code data.pkl} in a {@code torch.save} zip) without running anything
 * it names: a pickle is a program for Python's pickle machine, and a hostile one calls any function it likes
 * (os.system). This machine knows the opcodes of protocols 2 to 4 that {@code torch.save} writes, and resolves only
 * the globals a state dict uses: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, the
 * {@code torch.*Storage} types, as {@code torch.load(weights_only=True)} allows; any other global is refused by
 * name. Tensors come out as {@link TensorRef}s into storages named by the pickle's persistent ids.
 *
 * <p>Everything is bounded by the input: the stack and the memo hold what the bytes built, lengths are checked against
 * what is left, and no value is built lazily, so a corrupt file ends in a {@link ModelFormatException}.
 */
final class Unpickler {
    /** A storage: {@code size} elements of {@code dtype}, {@code elementBytes} each, that the file holds under {@code key}. */
    record StorageRef(String key, String dtype, int elementBytes, long size) {}

    /** A {@code torch.*Storage} type: its elements' type and size. */
    private record StorageType(String dtype, int elementBytes) {}

    /** A tensor: {@code shape} and {@code stride} in elements, from element {@code offset} of its storage. */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {}

    /** A global the machine resolved, by its Python name. */
    private record Global(String name) {}

    /** The {@code torch.*Storage} types, by class name. */
    private static final Map<String, StorageType> STORAGE_TYPES = Map.of(
            "FloatStorage", new StorageType("float32", 4), "HalfStorage", new StorageType("float16", 2),
            "BFloat16Storage", new StorageType("bfloat16", 2), "DoubleStorage", new StorageType("float64", 8),
            "LongStorage", new StorageType("int64", 8), "IntStorage", new StorageType("int32", 4),
            "ShortStorage", new StorageType("int16", 2), "CharStorage", new StorageType("int8", 1),
            "ByteStorage", new StorageType("uint8", 1), "BoolStorage", new StorageType("bool", 1));
    private static final Set<String> GLOBALS = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter");
    private static final Object MARK = new Object();

    private final ByteBuffer in;
    private final String source;
    private final List<Object> stack = new ArrayList<>();
    private final Map<Integer, Object> memo = new HashMap<>();

    private Unpickler(ByteBuffer in, String source) {
        this.in = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        this.source = source;
    }

    /**
     * The object the pickle from {@code in}'s position builds; {@code in} is left just past its STOP opcode, where the
     * next pickle of a stream starts. {@code source} names it in errors.
     */
    static Object load(ByteBuffer in, String source) {
        Unpickler machine = new Unpickler(in, source);
        try {
            Object result = machine.run();
            in.position(machine.in.position());
            return result;
        } catch (java.nio.BufferUnderflowException e) {
            throw new ModelFormatException(source + ": the pickle ends before its STOP opcode (truncated or corrupt)");
        }
    }

    private Object run() {
        while (true) {
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int version = in.get() & 0xff;
                    if (version > 5) throw fail("pickle protocol " + version + " is newer than any torch.save writes");
                }
                case 0x95 -> in.getLong(); // FRAME: a length hint only
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty()) throw fail("values left on the stack at STOP");
                    return result;
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(List.of()); // EMPTY_TUPLE
                case '(' -> push(MARK);
                case 't' -> push(List.copyOf(popToMark())); // TUPLE
                case 0x85 -> push(List.of(pop())); // TUPLE1
                case 0x86 -> { Object b = pop(), a = pop(); push(List.of(a, b)); } // TUPLE2
                case 0x87 -> { Object c = pop(), b = pop(), a = pop(); push(List.of(a, b, c)); } // TUPLE3
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.getInt()); // BININT
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 0x8a -> push(long1()); // LONG1
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT, big-endian
                case 'X' -> push(string(in.getInt())); // BINUNICODE
                case 0x8c -> push(string(in.get() & 0xff)); // SHORT_BINUNICODE
                case 'c' -> push(global(line(), line())); // GLOBAL
                case 0x93 -> { Object name = pop(), module = pop(); push(global(text(module), text(name))); } // STACK_GLOBAL
                case 'q' -> memo.put(in.get() & 0xff, peek()); // BINPUT
                case 'r' -> memo.put(index(in.getInt()), peek()); // LONG_BINPUT
                case 0x94 -> memo.put(memo.size(), peek()); // MEMOIZE
                case 'h' -> push(recall(in.get() & 0xff)); // BINGET
                case 'j' -> push(recall(index(in.getInt()))); // LONG_BINGET
                case 'Q' -> push(persistent(pop())); // BINPERSID
                case 'R' -> { Object args = pop(), callable = pop(); push(call(callable, args)); } // REDUCE
                case 'b' -> { pop(); peek(); } // BUILD: a state dict's _metadata, which loading does not need
                case 's' -> { Object v = pop(), k = pop(); map(peek()).put(key(k), v); } // SETITEM
                case 'u' -> { // SETITEMS
                    List<Object> items = popToMark();
                    if (items.size() % 2 != 0) throw fail("SETITEMS with an odd number of values");
                    Map<Object, Object> m = map(peek());
                    for (int i = 0; i < items.size(); i += 2) m.put(key(items.get(i)), items.get(i + 1));
                }
                case 'a' -> { Object v = pop(); list(peek()).add(v); } // APPEND
                case 'e' -> { List<Object> items = popToMark(); list(peek()).addAll(items); } // APPENDS
                default -> throw fail(String.format("opcode 0x%02x at byte %d is not one a state dict uses", op, in.position() - 1));
            }
        }
    }

    /** Python's None, distinct from a missing value. */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private Object global(String module, String name) {
        String full = module + "." + name;
        if (module.equals("torch") && STORAGE_TYPES.containsKey(name)) return new Global(full);
        if (!GLOBALS.contains(full)) {
            throw fail("it calls " + full + ", which a state dict never does: only tensors, storages and OrderedDict are read"
                    + " (a pickle can run any Python function; this reader runs none)");
        }
        return new Global(full);
    }

    /**
     * ('storage', torch.XStorage, key, location, size): the persistent id torch.save gives each storage; the legacy
     * format adds a sixth element, a view's description, None but in files of PyTorch before 0.4.
     */
    private Object persistent(Object id) {
        if (id instanceof List<?> t && (t.size() == 5 || t.size() == 6 && t.get(5) == NONE) && "storage".equals(t.get(0))
                && t.get(1) instanceof Global g && g.name().startsWith("torch.") && t.get(2) instanceof String key
                && t.get(4) instanceof Long size && size >= 0) {
            StorageType type = STORAGE_TYPES.get(g.name().substring("torch.".length()));
            if (type != null) return new StorageRef(key, type.dtype(), type.elementBytes(), size);
        }
        throw fail("a persistent id that is not a torch storage: " + describe(id));
    }

    private Object call(Object callable, Object args) {
        if (!(callable instanceof Global g)) throw fail("REDUCE of " + describe(callable) + ", not a global");
        if (!(args instanceof List<?> a)) throw fail("REDUCE with arguments that are not a tuple");
        return switch (g.name()) {
            case "collections.OrderedDict" -> {
                if (!a.isEmpty()) throw fail("OrderedDict built from arguments");
                yield new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)) {
                    throw fail("_rebuild_tensor_v2 with arguments " + describe(a));
                }
                if (offset < 0) throw fail("a tensor at element " + offset + " of its storage");
                yield new TensorRef(s, offset, longs(a.get(2)), longs(a.get(3)));
            }
            case "torch._utils._rebuild_parameter" -> {
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef t)) throw fail("_rebuild_parameter of " + describe(a));
                yield t;
            }
            default -> throw fail("REDUCE of " + g.name());
        };
    }

    private long[] longs(Object tuple) {
        if (!(tuple instanceof List<?> t)) throw fail("a tensor's shape or stride is not a tuple: " + describe(tuple));
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.get(i) instanceof Long v) || v < 0) throw fail("a tensor's shape or stride holds " + describe(t.get(i)));
            out[i] = v;
        }
        return out;
    }

    private long long1() {
        int n = in.get() & 0xff;
        if (n > 8) throw fail("an integer of " + n + " bytes");
        long v = 0;
        for (int i = 0; i < n; i++) v |= (in.get() & 0xffL) << (8 * i);
        if (n > 0 && n < 8 && (v & (1L << (8 * n - 1))) != 0) v |= -1L << (8 * n); // two's complement
        return v;
    }

    private String string(long length) {
        if (length < 0 || length > in.remaining()) throw fail("a string of " + length + " bytes with " + in.remaining() + " left");
        byte[] b = new byte[(int) length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private String line() {
        StringBuilder s = new StringBuilder();
        for (byte b; (b = in.get()) != '\n'; ) {
            if (s.length() > 256) throw fail("a global's name longer than 256 bytes");
            s.append((char) (b & 0xff));
        }
        return s.toString();
    }

    private String text(Object o) {
        if (o instanceof String s) return s;
        throw fail("STACK_GLOBAL with a name that is not a string: " + describe(o));
    }

    private int index(int i) {
        if (i < 0) throw fail("a memo index of " + Integer.toUnsignedString(i));
        return i;
    }

    private Object recall(int i) {
        Object o = memo.get(i);
        if (o == null) throw fail("memo entry " + i + " read before it was written");
        return o;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> map(Object o) {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw fail("SETITEM on " + describe(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o) {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw fail("APPEND on " + describe(o) + ", not a list");
    }

    /**
     * {@code k}, if Python could hash it (a dict's key): a list or dict cannot be one, and a tuple only of what can. Java
     * would hash a list that holds itself without end; Python refuses it before that.
     */
    private Object key(Object k) {
        if (!hashable(k, 0)) throw fail("a dict key that Python cannot hash: " + describe(k));
        return k;
    }

    private static boolean hashable(Object k, int depth) {
        if (k instanceof List<?> tuple && !(tuple instanceof ArrayList<?>)) {
            if (depth >= 64) return false;
            for (Object e : tuple) if (!hashable(e, depth + 1)) return false;
            return true;
        }
        return k instanceof String || k instanceof Long || k instanceof Double || k instanceof Boolean || k == NONE || k instanceof Global;
    }

    /**
     * A short description of a value the pickle built, for an error: a few levels and elements of it, so that one nested
     * a million deep, or holding itself, never makes the message.
     */
    static String describe(Object o) {
        StringBuilder b = new StringBuilder();
        describe(o, b, 0);
        return b.toString();
    }

    private static void describe(Object o, StringBuilder b, int depth) {
        if (b.length() > 200) {
            b.append('…');
        } else if (o instanceof List<?> l) {
            boolean list = l instanceof ArrayList<?>;
            b.append(list ? '[' : '(');
            if (depth >= 3 && !l.isEmpty()) {
                b.append('…');
            } else {
                for (int i = 0; i < Math.min(l.size(), 6); i++) {
                    if (i > 0) b.append(", ");
                    describe(l.get(i), b, depth + 1);
                }
                if (l.size() > 6) b.append(", … (").append(l.size()).append(" in all)");
            }
            b.append(list ? ']' : ')');
        } else if (o instanceof Map<?, ?> m) {
            b.append("a dict of ").append(m.size()).append(m.size() == 1 ? " item" : " items");
        } else if (o instanceof String s) {
            b.append('\'').append(s.length() > 80 ? s.substring(0, 80) + "…" : s).append('\'');
        } else if (o instanceof TensorRef t) {
            b.append("a tensor of shape ").append(java.util.Arrays.toString(t.shape()));
        } else if (o instanceof Global g) {
            b.append(g.name());
        } else {
            b.append(o);
        }
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw fail("an opcode takes a value from an empty stack");
        return stack.removeLast();
    }

    private Object peek() {
        if (stack.isEmpty() || stack.getLast() == MARK) throw fail("an opcode needs a value on an empty stack");
        return stack.getLast();
    }

    private List<Object> popToMark() {
        int mark = stack.lastIndexOf(MARK);
        if (mark < 0) throw fail("an opcode that needs a MARK found none");
        List<Object> items = new ArrayList<>(stack.subList(mark + 1, stack.size()));
        stack.subList(mark, stack.size()).clear();
        return items;
    }

    private ModelFormatException fail(String why) {
        return new ModelFormatException(source + ": " + why);
    }
}
