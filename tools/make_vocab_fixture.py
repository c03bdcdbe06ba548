#!/usr/bin/env python3
"""Writes the fixture for tokenizers built from vocab.txt (BERT-family models saved without tokenizer.json) or from
vocab.json and merges.txt (RoBERTa).

  src/test/resources/tokenize/vocab-files/<case>/   vocab.txt or vocab.json + merges.txt, and the configuration files of
                                                  eight layouts
  src/test/resources/tokenize/vocab-files.json      texts and pairs -> ids and type ids, as transformers'
                                                  AutoTokenizer.from_pretrained(<case>) encodes them

The vocabulary is bert-tiny-ce's (src/test/resources/golden/bert-tiny-ce/tokenizer.json, 1,200 WordPiece ids) written
one token a line, in id order. The cases are what old repositories hold:
  uncased      tokenizer_config.json of transformers 3/4 (do_lower_case, the five special tokens, tokenizer_class) and
               special_tokens_map.json
  cased        do_lower_case false, and added_tokens.json with two vocabulary words at ids of its own (they keep the
               vocabulary's; normalized, not special)
  decoder      added_tokens_decoder (transformers >= 4.34): [MASK] with lstrip, a vocabulary word at an id of its own;
               strip_accents false, tokenize_chinese_chars false
  bare         vocab.txt with CRLF line ends and no tokenizer_config.json at all; config.json says model_type electra
  map          special_tokens_map.json overriding tokenizer_config.json's mask_token (rstrip) and adding a vocabulary
               word as an additional special token; tokenizer_class ElectraTokenizer
RoBERTa's vocabulary is golden/roberta-bpe-tokenizer/tokenizer.json's (2,001 ids, <mask> included, as roberta-base's
vocab.json has it), its merges written after a "#version: 0.2" line:
  roberta          tokenizer_config.json and special_tokens_map.json as roberta-base's (<mask> with lstrip)
  roberta-bare     vocab.json and merges.txt (CRLF lines) only; config.json says model_type roberta
  roberta-prefix   add_prefix_space true
Pairs are encoded as sentence-transformers' CrossEncoder calls the tokenizer (tokenizer([q], [d], truncation=True,
max_length=M)); single texts as a bi-encoder's (tokenizer(text, truncation=True, max_length=M)).

Usage (from the repository root):
    HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_vocab_fixture.py
"""
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_texts import CORPUS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "test" / "resources" / "tokenize"
VOCAB_SOURCE = ROOT / "src" / "test" / "resources" / "golden" / "bert-tiny-ce" / "tokenizer.json"
SPECIALS = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}


def added(content, lstrip=False, rstrip=False, normalized=False, special=True):
    return {"content": content, "lstrip": lstrip, "normalized": normalized, "rstrip": rstrip, "single_word": False,
            "special": special}


CASES = {
    "uncased": {
        "tokenizer_config.json": dict(do_lower_case=True, tokenize_chinese_chars=True, strip_accents=None,
                                      model_max_length=512, tokenizer_class="BertTokenizer", **SPECIALS),
        "special_tokens_map.json": dict(SPECIALS),
        "config.json": {"model_type": "bert"},
    },
    "cased": {
        "tokenizer_config.json": {"do_lower_case": False, "model_max_length": 512},
        # ids the vocabulary gives otherwise: transformers keeps the vocabulary's
        "added_tokens.json": {"berlin": 1200, "museum": 7},
        "config.json": {"model_type": "bert"},
    },
    "decoder": {
        "tokenizer_config.json": dict(
            do_lower_case=True, strip_accents=False, tokenize_chinese_chars=False, tokenizer_class="BertTokenizerFast",
            added_tokens_decoder={"0": added("[PAD]"), "1": added("[UNK]"), "2": added("[CLS]"), "3": added("[SEP]"),
                                  "4": added("[MASK]", lstrip=True), "1200": added("museum", normalized=True, special=False)},
            **SPECIALS),
        "config.json": {"model_type": "bert"},
    },
    "bare": {
        "config.json": {"model_type": "electra"},
    },
    "map": {
        "tokenizer_config.json": dict(do_lower_case=True, tokenizer_class="ElectraTokenizer",
                                      mask_token={"__type": "AddedToken", "content": "[MASK]", "lstrip": True,
                                                  "normalized": False, "rstrip": False, "single_word": False}),
        "special_tokens_map.json": dict(SPECIALS, mask_token=added("[MASK]", rstrip=True),
                                        additional_special_tokens=["berlin"]),
        "config.json": {"model_type": "electra"},
    },
}

TEXTS = CORPUS[:24] + [
    "", "   ", "Héllo Wörld, ÀÉÎÕÜ ñ ç", "北京是中国的首都 and 東京 is Japan's", "naïve café résumé",
    "[SEP] [sep] [MASK]x x[MASK] [ MASK ] [CLS]", "  [MASK]  spaced  [MASK]", "[QRY] [qry] [NEW] [new] newword Newword NEWWORD",
    "Berlin berlin BERLIN berlins xberlin", "tab\there\nnewline\r\nand\u00a0nbsp\u2003em", "control\u0000\u0007\ufffd chars",
    "emoji 🙂🚀 and math ∑∫ and symbols ©®™", "a" * 120 + " long word", "don't won't it's U.S.A. e-mail 3.14 1,000",
    "Straße ﬁ ligature Ⅻ ①", "mixed Ελληνικά русский العربية हिन्दी",
]
QUERIES = ["how many people live in berlin?", "[MASK] bread", "Héllo [SEP] query"]
MAX_LENGTHS = (64, 16)


ROBERTA_SOURCE = ROOT / "src" / "test" / "resources" / "golden" / "roberta-bpe-tokenizer" / "tokenizer.json"
ROBERTA_SPECIALS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>", "pad_token": "<pad>",
                    "cls_token": "<s>"}
MASK_LSTRIP = {"__type": "AddedToken", "content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
               "single_word": False}
ROBERTA_CASES = {
    "roberta": {
        "tokenizer_config.json": dict(ROBERTA_SPECIALS, mask_token=MASK_LSTRIP, errors="replace", trim_offsets=True,
                                      add_prefix_space=False, model_max_length=512, tokenizer_class="RobertaTokenizer"),
        "special_tokens_map.json": dict(ROBERTA_SPECIALS, mask_token={k: v for k, v in MASK_LSTRIP.items() if k != "__type"}),
        "config.json": {"model_type": "roberta"},
    },
    "roberta-bare": {"config.json": {"model_type": "roberta"}},
    "roberta-prefix": {
        "tokenizer_config.json": {"add_prefix_space": True, "tokenizer_class": "RobertaTokenizerFast"},
        "config.json": {"model_type": "roberta"},
    },
}


def write_roberta_case(d, files):
    d.mkdir(parents=True, exist_ok=True)
    for p in d.iterdir():
        p.unlink()
    model = json.loads(ROBERTA_SOURCE.read_text(encoding="utf-8"))
    vocab = dict(model["model"]["vocab"], **{"<mask>": 2000})
    (d / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
    newline = "\r\n" if d.name == "roberta-bare" else "\n"
    (d / "merges.txt").write_bytes(("#version: 0.2" + newline + "".join(" ".join(m) + newline for m in model["model"]["merges"]))
                                   .encode("utf-8"))
    for name, content in files.items():
        (d / name).write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_case(d, files, vocab_lines):
    d.mkdir(parents=True, exist_ok=True)
    for p in d.iterdir():
        p.unlink()
    newline = "\r\n" if d.name == "bare" else "\n"
    (d / "vocab.txt").write_bytes("".join(t + newline for t in vocab_lines).encode("utf-8"))
    for name, content in files.items():
        (d / name).write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def compact(doc):
    """Indented down to each case's fields; every encoding record on a line of its own."""
    def dump(o):
        return json.dumps(o, ensure_ascii=False, separators=(", ", ": "))
    lines = ["{"]
    for key in ("description", "command", "generated", "versions"):
        lines.append(f" {dump(key)}: {dump(doc[key])},")
    lines.append(' "cases": {')
    for i, (name, case) in enumerate(doc["cases"].items()):
        lines.append(f"  {dump(name)}: {{")
        for key in ("tokenizer_class", "normalizer", "added_tokens"):
            lines.append(f"   {dump(key)}: {dump(case[key])},")
        lines.append('   "encodings": [')
        lines.append(",\n".join("    " + dump(r) for r in case["encodings"]))
        lines.append("   ]")
        lines.append("  }" + ("," if i < len(doc["cases"]) - 1 else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines)
    assert json.loads(text) == doc
    return text


def main():
    vocab = json.loads(VOCAB_SOURCE.read_text(encoding="utf-8"))["model"]["vocab"]
    lines = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert [vocab[t] for t in lines] == list(range(len(lines)))
    cases = {}
    for name, files in list(CASES.items()) + list(ROBERTA_CASES.items()):
        d = OUT / "vocab-files" / name
        if name in ROBERTA_CASES:
            write_roberta_case(d, files)
        else:
            write_case(d, files, lines)
        tok = AutoTokenizer.from_pretrained(str(d))
        backend = json.loads(tok.backend_tokenizer.to_str())
        records = []
        for m in MAX_LENGTHS:
            for text in TEXTS:
                e = tok(text, truncation=True, max_length=m)
                records.append(dict(text=text, max_length=m, input_ids=e["input_ids"]))
                if "token_type_ids" in e:  # RoBERTa's tokenizer returns none
                    records[-1]["token_type_ids"] = e["token_type_ids"]
            for q in QUERIES:
                for text in TEXTS[::3]:
                    e = tok([q], [text], truncation=True, max_length=m)
                    records.append(dict(query=q, text=text, max_length=m, input_ids=e["input_ids"][0]))
                    if "token_type_ids" in e:
                        records[-1]["token_type_ids"] = e["token_type_ids"][0]
        cases[name] = dict(
            tokenizer_class=type(tok).__name__,
            normalizer=backend["normalizer"],
            added_tokens=[{k: a[k] for k in ("id", "content", "lstrip", "rstrip", "normalized", "special")}
                          for a in backend["added_tokens"]],
            encodings=records)
    doc = dict(
        description="Tokenizers built from vocab.txt, or vocab.json and merges.txt, and the files beside them, as "
                    "transformers' AutoTokenizer builds them; ids of single texts and of pairs (CrossEncoder's call), at "
                    "max_length 64 and 16 (type ids where the tokenizer returns them).",
        command="HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_vocab_fixture.py",
        generated=datetime.date.today().isoformat(),
        versions={"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        cases=cases)
    (OUT / "vocab-files.json").write_text(compact(doc) + "\n", encoding="utf-8")
    for name, c in cases.items():
        print(name, c["tokenizer_class"], json.dumps(c["normalizer"]), [(a["id"], a["content"]) for a in c["added_tokens"]])


if __name__ == "__main__":
    main()
