#!/usr/bin/env python3
"""Writes the Unigram (SentencePiece) tokenizer fixture for the XLM-R / bge-reranker tokenizer tests.

  src/test/resources/golden/xlmr-tiny-tokenizer/tokenizer.json   HF tokenizers file (converted XLM-R)
  src/test/resources/golden/xlmr-tiny-tokenizer/vocab-info.json  vocab size, special ids, versions
  src/test/resources/golden/xlmr-flag-truncation.json            FlagEmbedding-style pair truncation
  src/test/resources/tokenize/unicode-corpus.txt                 >= 500 NFKC-sensitive lines

A SentencePiece Unigram model (normalization nmt_nfkc, so the precompiled charsmap is real) is trained
on a deterministic multilingual text written below, then converted as transformers converts an
XLM-R sentencepiece model (convert_slow_tokenizer.XLMRobertaConverter).

Usage (from the repository root):
  HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_unigram_fixture.py
Needs sentencepiece and protobuf besides tools/requirements.txt.
"""
import datetime
import json
import os
import random
import shutil
import sys
import tempfile

import sentencepiece as spm
import tokenizers
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
_argv = sys.argv
sys.argv = [_argv[0], os.path.join(tempfile.gettempdir(), "unigram-fixture-corpus.txt")]  # make_corpus writes on import
import make_corpus  # noqa: E402  (reuses its fragments and escape())
sys.argv = _argv

OUT_DIR = "src/test/resources/golden/xlmr-tiny-tokenizer"
FLAG_OUT = "src/test/resources/golden/xlmr-flag-truncation.json"
CORPUS_OUT = "src/test/resources/tokenize/unicode-corpus.txt"
VOCAB_SIZE = 3000
rng = random.Random(20261122)

# ---- NFKC-sensitive material
FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F))
HALFWIDTH_KANA = "".join(chr(c) for c in range(0xFF61, 0xFF9F))
LIGATURES = "ﬀﬁﬂﬃﬄﬅﬆ"
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿ₀₁₂₃₄₅₆₇₈₉ᵃᵇᶜᵈᵉ"
CIRCLED = "".join(chr(c) for c in range(0x2460, 0x24EA))
ROMAN = "".join(chr(c) for c in range(0x2160, 0x2189))
SPACES = ["\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006", "\u2007",
          "\u2008", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000", "\u200b", "\u2060", "\ufeff", "\t", "  ", "   "]
COMBINING_MARKS = ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u030a", "\u0323", "\u0327", "\u0331", "\u034f"]
ARABIC = ["مَرْحَبًا بِكُمْ فِي الْمَدِينَةِ", "ﻻ ﷲ ﷺ ﺍﻟﻌﺮﺑﻴﺔ", "الكتاب الجديد على الطاولة", "١٢٣ ٤٥٦ ٧٨٩٠",
          "ﭐﭑﭒ ﮎﮏ ﯾﯿ", "سلام عليكم ورحمة الله", "اَلْعَرَبِيَّةُ لُغَةٌ جَمِيلَةٌ"]
DEVANAGARI = ["क्षत्रिय ज्ञान श्री", "नमस्ते दुनिया", "क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़", "हिन्दी भाषा", "कि की कु कू के कै को कौ",
              "द्वारा प्रदान किया गया", "०१२३४५६७८९", "ॐ नमः शिवाय"]
THAI = ["ภาษาไทยไม่มีช่องว่าง", "สวัสดีครับ", "กรุงเทพมหานคร", "ำ ํา ๆ ฯ", "๑๒๓๔๕", "น้ำ ผู้ใหญ่ เกี่ยว"]
HANGUL = ["한국어", "\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165", "ㄱㄴㄷㄹㅁㅂ", "ᄀᄁᄂ 자모", "서울특별시",
          "\u1100\u1161 \uac00", "ﾡﾢﾣ ㈀㈁㈂ ㉠㉡"]
EMOJI = ["👨‍👩‍👧‍👦", "👩‍❤️‍💋‍👨", "🏳️‍🌈", "🏴‍☠️", "👍🏽", "🇫🇷🇩🇪", "❤️", "☺︎", "1️⃣ #️⃣", "🧑🏿‍💻", "👁‍🗨", "😀😃"]
MISC = ["™ ℠ ℡ № ℃ ℉ Å K", "½ ⅓ ¼ ¾ ⅞", "µ ß ẞ ſ ﬆ", "㍱㍲㎏㎒㏂", "㋀㋁ ㍘㍙", "…‥ ‼ ⁇ ⁈", "＂ＡＢＣ＂ ｘｙｚ",
        "𝐀𝐁𝐂 𝒜𝒷𝒸 𝔸𝕓𝕔", "ǅ ǈ ǋ", "Ｈｅｌｌｏ，　Ｗｏｒｌｄ！", "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟﾌﾟ", "Ⅻ ⅻ Ⅿ ↀ", "Ω Ω ℧", "e\u0301 é",
        "a\u030a å Å", "ﬁnancial ﬂow ofﬁce", "x²+y²=z²", "H₂O CO₂", "①②③ ⑴⑵⑶ ⒈⒉⒊", "Ⓐⓑⓒ", "​zero​width​"]
LATIN_WORDS = ("the of and to in is was for on that with as by at from this be are have it not or an which "
               "reranker query document passage score model search engine retrieval language berlin paris "
               "people live capital city country river mountain history science music water energy").split()


def grab(s, k):
    return "".join(rng.choice(s) for _ in range(k))


def make_unicode_lines():
    lines = []
    words = make_corpus.WORDS
    sources = [FULLWIDTH, HALFWIDTH_KANA, LIGATURES, SUPERSCRIPTS, CIRCLED, ROMAN]
    for s in sources:
        for k in range(30):
            w = rng.sample(words, 3)
            lines.append(f"{w[0]} {grab(s, rng.randint(1, 6))}{w[1]} {grab(s, rng.randint(1, 4))} {w[2]}")
    for sp in SPACES:
        for k in range(5):
            w = rng.sample(words, 4)
            lines.append(sp.join(w) + (sp if k % 2 else "") + ("x" if k == 3 else ""))
        lines.append(sp + "lead" + sp * 2 + "trail" + sp)
    for m in COMBINING_MARKS:
        for k in range(5):
            w = rng.choice(words)
            pos = rng.randint(0, len(w))
            lines.append(w[:pos] + m + w[pos:] + " " + rng.choice("aeiouAEIOUnc") + m + m)
        lines.append(m + "start " + m)
    for group in [ARABIC, DEVANAGARI, THAI, HANGUL, EMOJI, MISC]:
        for t in group:
            lines.append(t)
            lines.append(t + " " + " ".join(rng.sample(words, 2)))
            lines.append(" ".join(rng.sample(group, min(3, len(group)))))
    everything = FULLWIDTH + LIGATURES + SUPERSCRIPTS + CIRCLED + ROMAN + "".join(SPACES) + "".join(MISC)
    while len(lines) < 560:
        parts = [rng.choice(words), grab(everything, rng.randint(1, 5)), rng.choice(words),
                 rng.choice(ARABIC + DEVANAGARI + THAI + HANGUL + EMOJI), rng.choice(words)]
        rng.shuffle(parts)
        lines.append(" ".join(parts))
    lines.append("")
    lines.append(" ")
    lines.append("▁ ▁▁ x▁y")
    lines.append("<s> </s> <mask> <unk> <pad> x<mask>y <s>hello</s>")
    lines.append("a" * 300)
    lines.append(" ".join(rng.choice(LATIN_WORDS) for _ in range(400)))
    return lines


def training_text():
    lines = []
    frags = make_corpus.ALL_FRAGMENTS
    for _ in range(6000):
        lines.append(" ".join(rng.choice(LATIN_WORDS) for _ in range(rng.randint(4, 14))))
    for _ in range(4):
        lines.extend(frags)
    for _ in range(3000):
        lines.append(" ".join(rng.choice(make_corpus.WORDS) for _ in range(rng.randint(3, 10))))
    for group in [ARABIC, DEVANAGARI, THAI, HANGUL, MISC]:
        lines.extend(group * 20)
    # pseudo-words from syllables of several scripts, so that a few thousand pieces are worth keeping
    syllables = [c + v for c in "bcdfghjklmnprstvwz" for v in ["a", "e", "i", "o", "u", "ai", "ou", "é", "ü"]]
    syllables += [c + v for c in "бвгджзклмнпрст" for v in "аеиоуыя"]
    syllables += [c + v for c in "βγδκλμνπρστ" for v in "αεηιου"]
    syllables += [chr(c) for c in range(0x4E00, 0x4E00 + 300)] + [chr(c) for c in range(0xAC00, 0xAC00 + 300, 3)]
    syllables += [c + v for c in "कखगचजतदनपमयरलवस" for v in ["", "ा", "ि", "ी", "ु", "े", "ो", "्र"]]
    vocab_words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))) for _ in range(6000)]
    for _ in range(20000):
        lines.append(" ".join(rng.choice(vocab_words[:rng.choice([300, 1500, 6000])]) for _ in range(rng.randint(3, 12))))
    return lines


def convert(model_file):
    """What transformers 5 loads from an XLM-R directory holding only sentencepiece.bpe.model."""
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(model_file, os.path.join(d, "sentencepiece.bpe.model"))
        return transformers.XLMRobertaTokenizer.from_pretrained(d).backend_tokenizer


def convert_legacy(model_file):
    """transformers' XLMRobertaConverter (convert_slow_tokenizer.py), the layout of released bge-reranker files."""
    from transformers.convert_slow_tokenizer import XLMRobertaConverter

    class Slow:  # the few attributes the converter reads from a slow tokenizer
        vocab_file = model_file
        add_prefix_space = True
        legacy = True

        @staticmethod
        def convert_tokens_to_ids(token):
            return {"<s>": 0, "</s>": 2}[token]
    return XLMRobertaConverter(Slow()).converted()


def by_hand(q_ids, d_ids, max_length, cls_id=0, sep_id=2):
    """ONLY_SECOND truncation (right side, stride 0) as tokenization_python.py truncate_sequences does it,
    then <s> q </s></s> d </s>: the cross-check of PythonBackend below."""
    excess = len(q_ids) + len(d_ids) + 4 - max_length
    if excess > 0 and d_ids:
        d_ids = d_ids[:-excess]
    return [cls_id] + q_ids + [sep_id, sep_id] + d_ids + [sep_id]


def python_backend(vocab):
    """transformers 5's fast tokenizers have no prepare_for_model; its PythonBackend (the slow-tokenizer base)
    still has. This subclass gives it XLM-R's specials and build_inputs_with_special_tokens (as the slow
    XLMRobertaTokenizer of transformers 4 had); ids come from the fast tokenizer, so nothing else is used."""
    from transformers.tokenization_python import PythonBackend

    class XlmrIds(PythonBackend):
        def __init__(self):
            super().__init__(bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                             unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")

        @property
        def vocab_size(self):
            return len(vocab)

        def get_vocab(self):
            return dict(vocab)

        def _convert_token_to_id(self, token):
            return vocab.get(token, vocab["<unk>"])

        def _tokenize(self, text):
            raise NotImplementedError("ids only")

        def build_inputs_with_special_tokens(self, ids, pair=None):
            cls, sep = [vocab["<s>"]], [vocab["</s>"]]
            return cls + ids + sep if pair is None else cls + ids + sep + sep + pair + sep
    return XlmrIds()


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "train.txt")
        with open(text, "w", encoding="utf-8") as f:
            f.write("\n".join(training_text()) + "\n")
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(
            input=text, model_prefix=prefix, model_type="unigram", vocab_size=VOCAB_SIZE,
            normalization_rule_name="nmt_nfkc", character_coverage=0.9995, seed_sentencepiece_size=200000,
            num_threads=1, shuffle_input_sentence=False, input_sentence_size=0, minloglevel=2)
        tok = convert(prefix + ".model")
        tok.save(os.path.join(OUT_DIR, "tokenizer.json"))
        convert_legacy(prefix + ".model").save(os.path.join(OUT_DIR, "tokenizer-converter.json"))
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")

    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=os.path.join(OUT_DIR, "tokenizer.json"),
                                                bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
                                                unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    header = {
        "command": "HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_unigram_fixture.py",
        "generated": datetime.date.today().isoformat(),
        "versions": {"sentencepiece": spm.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
    }
    info = dict(header, vocab_size=tok.get_vocab_size(), sentencepiece_pieces=sp.get_piece_size(),
                normalization_rule="nmt_nfkc",
                special_ids={t: tok.token_to_id(t) for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]},
                note="XLM-R layout: fairseq ids = sentencepiece ids + 1, <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last")
    with open(os.path.join(OUT_DIR, "vocab-info.json"), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1, ensure_ascii=False)
        f.write("\n")

    unicode_lines = make_unicode_lines()
    with open(CORPUS_OUT, "w", encoding="utf-8") as f:
        for line in unicode_lines:
            f.write(make_corpus.escape(line) + "\n")

    # FlagEmbedding's reranker (inference/reranker/encoder_only/base.py compute_score): query without
    # specials cut to max_length*3/4, passage cut to max_length, then prepare_for_model only_second.
    cases = []
    queries = ["how many people live in berlin?", "ﬁnancial ＲＥＰＯＲＴ ①②③ " * 6,
               " ".join(rng.choice(LATIN_WORDS) for _ in range(60)), "", "x"]
    docs = [" ".join(rng.choice(LATIN_WORDS) for _ in range(n)) for n in (0, 3, 20, 70, 200)] + unicode_lines[:5]
    backend = python_backend(tok.get_vocab())
    for max_length in (16, 32, 64, 512):
        qmax = max_length * 3 // 4
        for q in queries:
            for d in docs:
                q_ids = fast(q, return_attention_mask=False, add_special_tokens=False, max_length=qmax,
                             truncation=True)["input_ids"]
                d_ids = fast(d, return_attention_mask=False, add_special_tokens=False, max_length=max_length,
                             truncation=True)["input_ids"]
                ids = backend.prepare_for_model(q_ids, d_ids, truncation="only_second", max_length=max_length,
                                                padding=False)["input_ids"]
                assert ids == by_hand(q_ids, d_ids, max_length), (q, d, max_length)
                cases.append({"query": q, "doc": d, "max_length": max_length, "input_ids": ids})
    with open(FLAG_OUT, "w", encoding="utf-8") as f:
        json.dump(dict(header, what="FlagEmbedding reranker pair truncation: query cut to max_length*3//4 "
                       "without specials, doc cut to max_length, then prepare_for_model(truncation='only_second')",
                       cases=cases), f, indent=None, ensure_ascii=False)
        f.write("\n")
    print("vocab", tok.get_vocab_size(), "unicode lines", len(unicode_lines), "flag cases", len(cases))


if __name__ == "__main__":
    main()
