#!/usr/bin/env python3
"""Writes the byte-level BPE tokenizer fixture (RoBERTa's tokenizer kind) for BpeParityTest.

  src/test/resources/golden/roberta-bpe-tokenizer/tokenizer.json
      a ByteLevel BPE tokenizer laid out as roberta-base's: no normalizer, ByteLevel pre-tokenizer (add_prefix_space
      false, GPT-2 regex), BPE with merges, RobertaProcessing (<s> A </s></s> B </s>), <mask> with lstrip;
      merges in the [["a", "b"], ...] form tokenizers >= 0.20 writes
  src/test/resources/golden/roberta-bpe-tokenizer/tokenizer-prefix-space.json
      the same with add_prefix_space true and merges in the older "a b" form

  src/test/resources/golden/roberta-tiny-st/ and roberta-tiny-st.json
      an English RoBERTa cross-encoder as sentence-transformers saves one (cross-encoder/stsb-roberta-base's kind):
      xlmr-tiny-ce's weights under a RobertaForSequenceClassification config with this tokenizer, loaded and saved by
      CrossEncoder (small files only); text pairs -> ids (longest first) -> predict's logit and score

The vocabulary (2,000 ids) is trained with tokenizers' BpeTrainer on golden_texts.CORPUS and the parity corpora;
training is deterministic (the script checks by training twice). The Java test compares ids with HF tokenizers (DJL)
at test time, so no ids are stored.

Usage (from the repository root):
    tools/.venv/bin/python tools/make_bpe_fixture.py
"""
import datetime
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import tokenizers
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_texts import CORPUS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "test" / "resources" / "golden" / "roberta-bpe-tokenizer"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
VOCAB_SIZE = 2000


def texts():
    lines = list(CORPUS)
    for name in ("corpus.txt", "unicode-corpus.txt"):
        lines += (ROOT / "src" / "test" / "resources" / "tokenize" / name).read_text(encoding="utf-8").split("\n")
    return [line for line in lines if line]


def train(add_prefix_space):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts(), trainer=trainer)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False, special=True)])
    tok.post_processor = processors.RobertaProcessing(("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
                                                      add_prefix_space=add_prefix_space)
    return json.loads(tok.to_str())


ROBERTA_PAIRS = [
    ("short", "how many people live in berlin?", "Berlin has about 3.7 million inhabitants.", 64),
    ("unrelated", "how many people live in berlin?", "Knead the dough for ten minutes, then let it rise.", 64),
    ("contractions", "what's the capital of france?", "It's Paris; they've lived there since the 3rd century.", 64),
    ("spaces", "  museums   in berlin ", "The  museum island\tholds five museums.\n", 64),
    ("unicode", "Wie hoch ist die Zugspitze?", "Die Zugspitze ist 2962 m hoch; Grüße aus München 🙂", 64),
    ("empty-doc", "berlin", "", 64),
    ("long-doc", "museums in berlin", "The museum island holds five museums with art and antiquities. " * 8, 64),
    ("long-query", "where do people of berlin go to see old paintings on a rainy sunday? " * 6, "The old national gallery.", 64),
    ("long-both-32", "where do people go to see paintings? " * 5, "The museum island holds five museums. " * 5, 32),
]


def make_roberta_st(tokenizer_file):
    """xlmr-tiny-ce's weights as a RobertaForSequenceClassification with the BPE tokenizer, through CrossEncoder."""
    import torch
    import transformers
    import sentence_transformers
    from sentence_transformers import CrossEncoder
    from transformers import PreTrainedTokenizerFast
    golden = ROOT / "src" / "test" / "resources" / "golden"
    st_dir = golden / "roberta-tiny-st"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        config = json.loads((golden / "xlmr-tiny-ce" / "config.json").read_text())
        config.update(model_type="roberta", architectures=["RobertaForSequenceClassification"])
        (src / "config.json").write_text(json.dumps(config, indent=2))
        shutil.copy(golden / "xlmr-tiny-ce" / "model.safetensors", src / "model.safetensors")
        PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file), bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                model_max_length=64).save_pretrained(str(src))
        saved = Path(tmp) / "saved"
        CrossEncoder(str(src), device="cpu").save(str(saved))
        assert (saved / "model.safetensors").read_bytes() == (src / "model.safetensors").read_bytes()
        assert json.loads((saved / "config.json").read_text())["model_type"] == "roberta"
        if st_dir.exists():
            shutil.rmtree(st_dir)
        st_dir.mkdir()
        for f in ("config.json", "config_sentence_transformers.json", "modules.json", "sentence_bert_config.json",
                  "tokenizer_config.json"):
            shutil.copy(saved / f, st_dir / f)
        records = []
        for name, q, d, m in ROBERTA_PAIRS:
            ce = CrossEncoder(str(saved), device="cpu", max_length=m)
            raw = CrossEncoder(str(saved), device="cpu", max_length=m, activation_fn=torch.nn.Identity())
            ids = ce.tokenizer([q], [d], truncation=True, max_length=m)["input_ids"][0]
            full = len(ce.tokenizer(q, d)["input_ids"])
            score, logit = float(ce.predict([(q, d)])[0]), float(raw.predict([(q, d)])[0])
            assert abs(score - 1 / (1 + math.exp(-logit))) < 1e-6
            records.append(dict(id=name, query=q, doc=d, max_length=m, truncated=full > m, input_ids=ids, logit=logit,
                                score=score))
    assert sum(r["truncated"] for r in records) >= 3 and max(r["logit"] for r in records) - min(r["logit"] for r in records) > 0.5
    doc = dict(description="xlmr-tiny-ce's weights as an English RoBERTa cross-encoder with roberta-bpe-tokenizer/tokenizer.json, "
                           "saved by sentence-transformers' CrossEncoder (the small files in roberta-tiny-st/; the weights are "
                           "xlmr-tiny-ce's, the tokenizer roberta-bpe-tokenizer's). input_ids as CrossEncoder tokenizes "
                           "(longest first); score = predict (Sigmoid, as its config names); logit = predict with Identity.",
               command="tools/.venv/bin/python tools/make_bpe_fixture.py", generated=datetime.date.today().isoformat(),
               versions={"transformers": transformers.__version__, "sentence_transformers": sentence_transformers.__version__,
                         "tokenizers": tokenizers.__version__, "torch": torch.__version__},
               pairs=records)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    (golden / "roberta-tiny-st.json").write_text(text + "\n", encoding="utf-8")
    print("roberta-tiny-st:", len(records), "pairs,", sum(r["truncated"] for r in records), "truncated")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    first = train(False)
    assert first == train(False), "BPE training is not deterministic"
    assert all(isinstance(m, list) for m in first["model"]["merges"])
    (OUT / "tokenizer.json").write_text(json.dumps(first, ensure_ascii=False) + "\n", encoding="utf-8")
    legacy = train(True)
    legacy["model"]["merges"] = [" ".join(m) for m in legacy["model"]["merges"]]
    (OUT / "tokenizer-prefix-space.json").write_text(json.dumps(legacy, ensure_ascii=False) + "\n", encoding="utf-8")
    for f in sorted(OUT.iterdir()):
        t = Tokenizer.from_file(str(f))  # both forms load in tokenizers itself
        print(f.name, f.stat().st_size, "bytes, vocab", t.get_vocab_size(), "tokenizers", tokenizers.__version__,
              t.encode("Hello world, <mask> don't 北京 🙂", "second text").ids[:12])
    make_roberta_st(OUT / "tokenizer.json")


if __name__ == "__main__":
    main()
