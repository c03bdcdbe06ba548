#!/usr/bin/env python3
"""A shape-faithful random bge-reranker-base for benchmarks (not a fixture: nothing here is committed).

Run from the repository root (see tools/README.md):

    HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_full_size.py [OUT_DIR] [--bf16 DIR] [--no-onnx]

Writes into OUT_DIR (default weights/bge-reranker-base-random/):
  config.json, model.safetensors  random XLMRobertaForSequenceClassification with bge-reranker-base's
                                  config (vocab 250002, hidden 768, 12 layers, 12 heads, FFN 3072,
                                  max positions 514), seeded default init (std 0.02), F32, ~1.1 GB
  tokenizer.json                  NOT bge's tokenizer (not reachable offline): the 3,002-piece Unigram
                                  tokenizer of src/test/resources/golden/xlmr-tiny-tokenizer/, whose ids
                                  fit in the 250,002-row embedding table
  model.onnx                      torch.onnx.export (legacy exporter): inputs input_ids, attention_mask
                                  (int64, dynamic batch and sequence axes), output logits [batch, 1]
and with --bf16 DIR the same weights saved in BF16 (config.json, model.safetensors, tokenizer.json).
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification  # noqa: E402

SEED = 20241122
ROOT = Path(__file__).resolve().parent.parent
TOKENIZER = ROOT / "src" / "test" / "resources" / "golden" / "xlmr-tiny-tokenizer" / "tokenizer.json"


def bge_reranker_base_config():
    """BAAI/bge-reranker-base's config.json, field by field."""
    config = XLMRobertaConfig(
        vocab_size=250002, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
        intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1, max_position_embeddings=514, type_vocab_size=1,
        initializer_range=0.02, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        num_labels=1, position_embedding_type="absolute", classifier_dropout=None)
    config.architectures = ["XLMRobertaForSequenceClassification"]
    config.id2label = {0: "LABEL_0"}
    config.label2id = {"LABEL_0": 0}
    return config


class LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=str(ROOT / "weights" / "bge-reranker-base-random"))
    ap.add_argument("--bf16", metavar="DIR", help="also write a BF16 copy of the safetensors here")
    ap.add_argument("--no-onnx", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    t0 = time.time()
    torch.manual_seed(SEED)
    model = XLMRobertaForSequenceClassification._from_config(bge_reranker_base_config(), attn_implementation="eager")
    model.eval()
    n = sum(p.numel() for p in model.parameters())
    print(f"built {n:,} parameters in {time.time() - t0:.1f} s", flush=True)
    model.save_pretrained(out, safe_serialization=True)
    shutil.copyfile(TOKENIZER, out / "tokenizer.json")
    print(f"wrote {out}/model.safetensors ({(out / 'model.safetensors').stat().st_size / 1e9:.3f} GB)", flush=True)

    # a few pairs shaped like <s> q </s></s> d </s>, ids from the tokenizer's range, to check the export
    g = torch.Generator().manual_seed(SEED)
    ids = torch.randint(4, 3001, (3, 40), generator=g)
    ids[:, 0] = 0
    ids[:, 12:14] = 2
    ids[:, -1] = 2
    mask = torch.ones_like(ids)
    ids[2, 30:] = 1
    ids[2, 29] = 2
    mask[2, 30:] = 0
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask).logits.numpy()
    print("torch logits:", ref.ravel(), flush=True)

    if not args.no_onnx:
        t0 = time.time()
        onnx_path = out / "model.onnx"
        torch.onnx.export(
            LogitsOnly(model), (ids, mask), str(onnx_path), input_names=["input_ids", "attention_mask"],
            output_names=["logits"], opset_version=17, do_constant_folding=True, dynamo=False,
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                          "logits": {0: "batch"}})
        print(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e9:.3f} GB) in {time.time() - t0:.1f} s", flush=True)
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        got = sess.run(["logits"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy()})[0]
        print("onnx  logits:", got.ravel(), f"max |d| = {np.abs(got - ref).max():.2e}", flush=True)
        if np.abs(got - ref).max() > 1e-3:
            sys.exit("ONNX export disagrees with torch")

    if args.bf16:
        bf = Path(args.bf16)
        bf.mkdir(parents=True, exist_ok=True)
        model.to(torch.bfloat16).save_pretrained(bf, safe_serialization=True)
        shutil.copyfile(TOKENIZER, bf / "tokenizer.json")
        print(f"wrote {bf}/model.safetensors ({(bf / 'model.safetensors').stat().st_size / 1e9:.3f} GB)", flush=True)


if __name__ == "__main__":
    main()
