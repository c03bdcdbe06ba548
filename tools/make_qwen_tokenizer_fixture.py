#!/usr/bin/env python3
"""Writes the fixtures of the Qwen2/Qwen3 tokenizer tests (HF tokenizers' answers, so Java tests never run Python):

  src/test/resources/tokenize/qwen-tokenizer-ids.json
      ids of golden/qwen3-tiny-reranker/tokenizer.json (NFC, Split with Qwen2's pattern, ByteLevel without regex,
      byte-level BPE, ByteLevel post-processor) for every line of tokenize/corpus.txt and tokenize/unicode-corpus.txt
      (stored by line, with each file's SHA-256 so that a changed corpus is noticed) and for hostile texts made here
      (long runs of one class, "\\r\\n" runs, contractions with 'S and long s, Unicode spaces, added tokens in text)
  src/test/resources/tokenize/split-cases.json
      pieces of HF's Split pre-tokenizer (pre_tokenize_str) for each behaviour, inverted or not, for regex and string
      patterns, and for Oniguruma constructs the Java translation supports; and, for each character class it
      translates, the code points Oniguruma matches (as ranges), found by splitting a text of every code point

Deterministic: a rerun writes the same bytes but for the date. Usage (from the repository root):
    tools/.venv/bin/python tools/make_qwen_tokenizer_fixture.py
"""
import datetime
import hashlib
import json
import sys
from pathlib import Path

import tokenizers
from tokenizers import Regex, Tokenizer, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "src" / "test" / "resources"
TOKENIZER = RESOURCES / "golden" / "qwen3-tiny-reranker" / "tokenizer.json"
CORPORA = ["corpus.txt", "unicode-corpus.txt"]
IDS_OUT = RESOURCES / "tokenize" / "qwen-tokenizer-ids.json"
SPLIT_OUT = RESOURCES / "tokenize" / "split-cases.json"
COMMAND = "tools/.venv/bin/python tools/make_qwen_tokenizer_fixture.py"

# Qwen2's and Qwen3's pattern, as their tokenizer.json holds it (and golden/qwen3-tiny-reranker's)
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
                r"\s+(?!\S)|\s+")


def unescape(line):
    """The corpus files' escapes as WordPieceParityTest.unescape undoes them: \\\\ and \\uXXXX (a UTF-16 unit)."""
    out, i = [], 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] == "\\":
            out.append("\\")
            i += 2
        elif c == "\\" and i + 5 < len(line) and line[i + 1] == "u":
            out.append(chr(int(line[i + 2:i + 6], 16)))
            i += 6
        else:
            out.append(c)
            i += 1
    return "".join(out)


def corpus_lines(name):
    data = (RESOURCES / "tokenize" / name).read_bytes()
    lines = data.decode("utf-8").split("\n")
    if lines[-1] == "":
        lines.pop()
    return data, [unescape(line) for line in lines]


HOSTILE = [
    "'S 's 'ſ 'K 'ß 'ﬆ 'İ 'ı IT'S it'ſ WE'LL we'Ll THEY'RE I'M you'VE he'D",
    "don't can't won't y'all rock'n'roll ''s '''",
    " " * 5000 + "word", "word" + " " * 5000, " " * 4999 + "\n", "\n" * 5000 + "x", "\r\n" * 3000 + "end",
    "x\r\n\r\n  \n\t\n y", "a \n b \r\n c \n\n\n d   \n", "   \t\t  \n  ", "\t\ttabs\t\tand  spaces  ",
    "1234567890" * 300, "3.14159 1,000,000 ²³ ⅔ ١٢٣ ௧௨ 12abc34def",
    "x" * 20000, "!" * 10000 + "a", "'" * 3000 + "s",
    "Ελληνικά Русский עברית العربية हिन्दी ไทย 中文 日本語 한국어 mixed123мир",
    "emoji 👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🇫🇷 1️⃣ ❤️ and text",
    "no\u00a0break\u00a0space em\u2003space\u3000ideographic\u202fnarrow\u2028line\u2029para\u0085nel",
    "\u00a0\u00a0\u00a0a \u2003\u2003b", "e\u0301 a\u0308 \u1100\u1161\u11a8 Å Ω",
    "<|im_start|>user\nhello<|im_end|>\n<think>\n\n</think>\n\n<|endoftext|>",
    "<think>x</think> <|im_start|><|im_start|> <|im_end", "",
    "ǅungla ǈ ǋ ﬁne ﬂow ﬀ ŉ ǰ",
]

# Split pre-tokenizers by their JSON pattern; each is run with every behaviour, inverted and not, on its texts
BEHAVIOUR_CASES = [
    ({"Regex": r"\s+"}, [" a  b ", "a", "  ", "a b\tc\n", "a\u00a0b\u2003c"]),
    ({"Regex": "-"}, ["the-final--countdown", "-a-", "--", "a"]),
    ({"Regex": "x*"}, ["axxb", "x", "ab", "xaxx"]),
    ({"Regex": "(?=b)"}, ["abab", "bb", "a"]),
    ({"Regex": "a|"}, ["bab", "aab", "b"]),
    ({"Regex": r"\p{N}{1,3}"}, ["12345 x 1 23", "a1234567b"]),
    ({"String": "-"}, ["the-final--countdown", "-"]),
    ({"String": ""}, ["abc", "😀a"]),
    ({"String": "a.b"}, ["a.b axb a.ba.b"]),
    ({"String": "(?i:[x]"}, ["a(?i:[x]b(?i:[X]"]),
    ({"Regex": QWEN_PATTERN}, ["Hello, WORLD! It'S 3.14 --  yes\n\n ok  ", "a\r\n\r\nb  \n c", "x 😀y 1️⃣"]),
]
BEHAVIOURS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]
SNAKE = {"Removed": "removed", "Isolated": "isolated", "MergedWithPrevious": "merged_with_previous",
         "MergedWithNext": "merged_with_next", "Contiguous": "contiguous"}

# Oniguruma constructs the Java translation supports, each with texts that tell a faithful translation from a loose one
REGEX_CASES = [
    (r"\x41|\x{1F600}|\u3040|\x7", ["zAz😀z\u3040z\x07"]),
    (r"[\u3040-\u3042]+|[\x{1F600}-\x{1F64F}]+", ["zぁあz😀🙏z"]),
    (r"\t|\f|\a|\e|\v|\n|\r", ["a\tb\fc\x07d\x1be\x0bf\ng\rh"]),
    (r"[\S]+", ["a b\u00a0c"]), (r"[^\S]+", ["a b\u00a0\u2003c\u200bd"]), (r"[\d\s]+", ["a1 ٣\u00a0b"]),
    (r"[^\D]", ["a1b٣"]), (r"\D+", ["ab12c"]), (r"\W+", ["a-²b\u200dc_d ·e"]), (r"\w+", ["a-²b\u200dc_d ·e ¼ º"]),
    (r"\p{^L}+", ["ab1c-d"]), (r"\P{L}+", ["ab1c-d"]), (r"\P{^L}+", ["ab1c-d"]), (r"\p{lu}+|\p{Nd}", ["aBCd12"]),
    (r"[\p{Lu}\p{Lt}]+[\p{Ll}]*", ["ǅungla ABc xY"]), (r"\p{Zs}|\p{Cc}+|\p{Cf}", ["a b\t\nc\u200bd\u00ade"]),
    (r"a+?", ["aaa"]), (r"a*+a|b", ["aaab"]), (r"a?+b", ["ab b"]), (r"a{2,3}?", ["aaaaa"]), (r"a{2,}?", ["aaaaa"]), (r"a{,2}?", ["aaa"]), (r"a{2,}", ["a aa aaaaa"]),
    (r"a{,2}", ["aaa"]), (r"x{2", ["xx{2"]), (r"a{,}", ["a{,}"]), (r"a{1,2", ["a{1,2"]), (r"}|]", ["a}b]c"]),
    (r"(?i)ab", ["xABxaBx"]), (r"a(?i)b|c", ["xcxAbxaBxaCx"]), (r"(?i:a)(?-i:b)", ["Ab AB ab"]),
    (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)", ["'S 's 'ſ 'K 'ß 'ﬆ 'RE 'Re 'LL 'lL 'D 'İ 'ı"]),
    (r"(?i:ik)", ["IK ik İK ıK iK Ik"]),
    (r"(?<=a)b", ["abcb"]), (r"(?<!a)b", ["abcb"]), (r"(?<=a|bc)d", ["adbcdcd"]), (r"(?<=a{1,3})b", ["aab b"]), (r"(?>a+)b|a", ["aab aa"]), (r"(?=a)\w", ["abab"]),
    (r"(?<n>a)b|(c)d", ["xabxcdx"]), (r"(?:a|b)+", ["xabbax"]), (r"(ab)*c", ["ababcabc"]),
    (r".", ["a\nb\rc\u2028d\x85😀"]), (r".+", ["ab\r\u2028c\nd"]),
    (r"[a-]|[-b]", ["a-b-c"]), (r"[\p{L}-]+", ["a-b 1"]), (r"[.*+?|(){}\[\]\\^$]+", ["a.*+?|(){}[]\\^$b"]),
    (r"[^\r\n\p{L}\p{N}]?\p{L}+", ["x ab -cd \ne 😀f"]), (r" ?[^\s\p{L}\p{N}]+[\r\n/]*", ["a !!\n/ b ..."]),
    (r"\p{N}{1,3}", ["1234567 ١٢٣٤"]), (r"[一-龥\u3040-ゟ゠-ヿ]+", ["漢字かなカナabc"]),
    (r"\s+(?!\S)|\s+", ["a   b    "]), (r"\s*[\r\n]+", ["a  \n\n  b\r\n"]),
    (r"\#|\&|\-|\~|\/|\_|\ |\'|\"", ["a#b&c-d~e/f_g h'i\"j"]),
    (r"😀+|[😀-😂]", ["x😀😀y😁😂z"]), (r"[^a]", ["😀a"]), (r"\p{So}", ["a😀b"]),
    (r"\p{Cs}|b", ["a😀b"]), (r"[^\p{So}a]+", ["a😀b😀c"]), (r"\P{So}", ["😀x😀"]),
    (r"[\x{D000}-\x{E000}]+", ["\ud000😀\ue000😀"]), (r"[^\x{D000}-\x{E000}]+", ["\ud000😀\ue000a"]),
    (r"(?<!a)", ["a😀b"]), (r"(?<!a)x*", ["a😀b😀"]),
    ("", ["abc"]), ("a|b|", ["xaybz"]),
]

# Character classes the translation writes: the code points Oniguruma gives each, as [first, last] ranges
CLASSES = [r"\s", r"\S", r"\d", r"\D", r"\w", r"\W", ".", r"[^\s\p{L}\p{N}]", r"[^\r\n\p{L}\p{N}]"]
CATEGORIES = ["L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Ps",
              "Pe", "Pi", "Pf", "Po", "S", "Sm", "Sc", "Sk", "So", "Z", "Zs", "Zl", "Zp", "C", "Cc", "Cf", "Cs", "Co",
              "Cn"]


def split(pattern, behaviour, invert, text):
    p = Regex(pattern["Regex"]) if "Regex" in pattern else pattern["String"]
    return [piece for piece, _ in pre_tokenizers.Split(p, behavior=SNAKE[behaviour], invert=invert).pre_tokenize_str(text)]


def code_point_ranges(pattern, scalars, text):
    """The code points the pattern matches alone: those a Removed split of every code point in a row drops."""
    kept = bytearray(len(text))
    for _, (start, end) in pre_tokenizers.Split(Regex(pattern), behavior="removed").pre_tokenize_str(text):
        kept[start:end] = b"\x01" * (end - start)
    ranges = []
    for i, cp in enumerate(scalars):
        if not kept[i]:
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    return ranges


def dump(doc, compact_keys):
    """JSON with the document's structure indented and each list under compact_keys on one line."""
    def encode(value, indent, key=None):
        pad = " " * indent
        if key in compact_keys and value and all(isinstance(v, list) for v in value):  # a list of id lists: one a line
            return "[\n" + ",\n".join(pad + " " + json.dumps(v, separators=(",", ":")) for v in value) + "\n" + pad + "]"
        if key in compact_keys or not isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":") if key in compact_keys else (", ", ": "))
        if isinstance(value, dict):
            items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {encode(v, indent + 1, k)}' for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return "[\n" + ",\n".join(pad + " " + encode(v, indent + 1) for v in value) + "\n" + pad + "]"
    return encode(doc, 0) + "\n"


def main():
    tok = Tokenizer.from_file(str(TOKENIZER))
    header = dict(command=COMMAND, generated=datetime.date.today().isoformat(),
                  versions={"python": sys.version.split()[0], "tokenizers": tokenizers.__version__})

    corpora = {}
    for name in CORPORA:
        data, lines = corpus_lines(name)
        corpora[name] = dict(sha256=hashlib.sha256(data).hexdigest(), lines=len(lines),
                             ids=[tok.encode(line).ids for line in lines])
    texts = [dict(text=t, ids=tok.encode(t).ids) for t in HOSTILE]
    assert tok.encode("a", "b").ids == tok.encode("a").ids + tok.encode("b").ids, "the post-processor adds nothing"
    ids_doc = dict(description="Ids HF tokenizers gives with golden/qwen3-tiny-reranker/tokenizer.json (encode(text), "
                               "which adds nothing: its post-processor is ByteLevel) for every line of the corpus files "
                               "(unescaped as WordPieceParityTest reads them) and for the hostile texts below.",
                   tokenizer="golden/qwen3-tiny-reranker/tokenizer.json", **header, corpora=corpora, texts=texts)
    IDS_OUT.write_text(dump(ids_doc, {"ids"}), encoding="utf-8")

    behaviour_cases = []
    for pattern, case_texts in BEHAVIOUR_CASES:
        for behaviour in BEHAVIOURS:
            for invert in (False, True):
                for text in case_texts:
                    behaviour_cases.append(dict(pattern=pattern, behavior=behaviour, invert=invert, text=text,
                                                pieces=split(pattern, behaviour, invert, text)))
    regex_cases = [dict(pattern={"Regex": p}, behavior="Isolated", invert=False, text=t,
                        pieces=split({"Regex": p}, "Isolated", False, t)) for p, ts in REGEX_CASES for t in ts]
    scalars = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    every = "".join(map(chr, scalars))
    classes = {c: code_point_ranges(c, scalars, every) for c in CLASSES + [r"\p{%s}" % g for g in CATEGORIES]}
    assert classes[r"\s"] == [[9, 13], [32, 32], [133, 133], [160, 160], [5760, 5760], [8192, 8202], [8232, 8233],
                              [8239, 8239], [8287, 8287], [12288, 12288]], "Oniguruma's \\s is White_Space"
    split_doc = dict(description="Pieces of HF tokenizers' Split pre-tokenizer (pre_tokenize_str): 'behaviors' runs "
                                 "each behaviour, inverted and not; 'regex' runs Oniguruma constructs (Isolated). "
                                 "'classes' holds the code points (surrogates excluded) Oniguruma matches with each "
                                 "class, as [first, last] ranges.",
                     **header, behaviors=behaviour_cases, regex=regex_cases, classes=classes)
    SPLIT_OUT.write_text(dump(split_doc, {"pieces"} | set(classes)), encoding="utf-8")
    print(f"{IDS_OUT.relative_to(ROOT)}: {sum(c['lines'] for c in corpora.values())} corpus lines, {len(texts)} texts")
    print(f"{SPLIT_OUT.relative_to(ROOT)}: {len(behaviour_cases)} behaviour cases, {len(regex_cases)} regex cases, "
          f"{len(classes)} classes")


if __name__ == "__main__":
    main()
