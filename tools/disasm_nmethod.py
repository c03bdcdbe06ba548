"""Disassembles the machine code of JIT-compiled methods, for reading what C2 made of a kernel.

Without the hsdis plugin the JVM prints compiled methods as hex; this turns each of them back into x86
instructions with Capstone (`tools/.venv/bin/pip install capstone`, from PyPI; not in requirements.txt,
since nothing else needs it):

    tools/jdk25 java --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions \\
      -XX:CompileCommand=print,dev.rerank4j.backend.cpu.GemmKernel::tile12 \\
      -cp target/classes:target/test-classes dev.rerank4j.backend.cpu.GemmProbe 1 1 > /tmp/tile12.txt
    tools/.venv/bin/python tools/disasm_nmethod.py /tmp/tile12.txt > /tmp/tile12.s

Each nmethod in the output starts with a `# Compiled method (c2) ...` line; the hot loop is the block that
ends with a backward jump to its first instruction.
"""
import re
import sys

import capstone

HEX_LINE = re.compile(r"\s*0x([0-9a-f]+): ((?:[0-9a-f]{2,8} ?\|? ?)+)$")


def nmethods(lines):
    """Yields (header, start address, code bytes) for each compiled method in a -XX:CompileCommand=print log."""
    header, start, code = None, None, bytearray()
    for line in lines:
        if line.startswith("Compiled method"):
            if header and code:
                yield header, start, bytes(code)
            header, start, code = line.strip(), None, bytearray()
            continue
        m = HEX_LINE.match(line)
        if not m or header is None:
            continue
        address = int(m.group(1), 16)
        if start is None:
            start = address
        if address < start + len(code):
            continue  # a comment line repeats the address of bytes already read
        code += b"\x00" * (address - start - len(code))
        for word in m.group(2).replace("|", " ").split():
            code += bytes.fromhex(word)
    if header and code:
        yield header, start, bytes(code)


def main(path):
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_INTEL
    with open(path) as f:
        for header, start, code in nmethods(f):
            print("# " + header)
            for insn in md.disasm(code, start):
                print(f"0x{insn.address:x}: {insn.mnemonic} {insn.op_str}")


if __name__ == "__main__":
    main(sys.argv[1])
