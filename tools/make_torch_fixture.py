#!/usr/bin/env python3
"""Generate the PyTorch checkpoint fixtures of TorchCheckpointTest under src/test/resources/torch/.

Run from the repository root after make_golden.py (see tools/README.md):

    HF_HUB_OFFLINE=1 tools/.venv/bin/python tools/make_torch_fixture.py

Writes:
  torch/bert-tiny-ce/pytorch_model.bin   golden/bert-tiny-ce's weights as transformers' save_pretrained writes
      them with safe_serialization=False (torch.save's zip, pickle protocol 2)
  torch/mixed-p2/pytorch_model.bin, torch/mixed-p4/pytorch_model.bin, torch/mixed-legacy/pytorch_model.bin
      a state dict of F32, F16 and BF16 tensors, two views of one storage (one from element 5), a 0-d tensor and
      an int64 position_ids buffer, saved with pickle protocols 2 and 4, and in the legacy (pre-1.6) format
  torch/colbert-tiny-dense/pytorch_model.bin   golden/colbert-tiny's 1_Dense projection, torch.save'd
  torch/sharded-safetensors/  golden/bert-tiny-ce's tensors in three safetensors shards and model.safetensors.index.json
  torch/sharded-pytorch/      the same in two torch.save shards (one zip, one legacy) and pytorch_model.bin.index.json
  torch/mixed-expected.safetensors       the same float tensors, contiguous, as the conversion must write them
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/test/resources/torch"


def mixed_state_dict():
    g = torch.Generator().manual_seed(7)
    shared = torch.randn(4, 5, generator=g)
    return {
        "a.weight": torch.randn(3, 4, generator=g),
        "b.bias": torch.randn(5, generator=g).to(torch.float16),
        "c.weight": torch.randn(2, 3, generator=g).to(torch.bfloat16),
        "shared.whole": shared,
        "shared.rows": shared[1:3],  # a view from element 5 of the same storage
        "scalar": torch.tensor(2.5),
        "embeddings.position_ids": torch.arange(6).unsqueeze(0),
    }


def main():
    model_dir = ROOT / "src/test/resources/golden/bert-tiny-ce"
    if not (model_dir / "model.safetensors").is_file():
        sys.exit("run tools/make_golden.py first: " + str(model_dir) + " has no model.safetensors")
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    bert_out = OUT / "bert-tiny-ce"
    bert_out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), bert_out / "pytorch_model.bin")

    dense = OUT / "colbert-tiny-dense"
    dense.mkdir(parents=True, exist_ok=True)
    torch.save(load_file(ROOT / "src/test/resources/golden/colbert-tiny/1_Dense/model.safetensors"), dense / "pytorch_model.bin")

    bert = load_file(model_dir / "model.safetensors")
    names = list(bert)
    for kind, parts in (("safetensors", 3), ("pytorch", 2)):
        d = OUT / f"sharded-{kind}"
        d.mkdir(parents=True, exist_ok=True)
        weight_map = {}
        for i in range(parts):
            group = {n: bert[n] for n in names[i::parts]}
            if kind == "safetensors":
                shard = f"model-{i + 1:05d}-of-{parts:05d}.safetensors"
                save_file(group, d / shard)
            else:
                shard = f"pytorch_model-{i + 1:05d}-of-{parts:05d}.bin"
                torch.save(group, d / shard, _use_new_zipfile_serialization=(i == 0))
            weight_map.update({n: shard for n in group})
        index = "model.safetensors.index.json" if kind == "safetensors" else "pytorch_model.bin.index.json"
        total = sum(t.numel() * t.element_size() for t in bert.values())
        (d / index).write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))

    state = mixed_state_dict()
    for protocol in (2, 4):
        d = OUT / f"mixed-p{protocol}"
        d.mkdir(parents=True, exist_ok=True)
        torch.save(state, d / "pytorch_model.bin", pickle_protocol=protocol)
    legacy = OUT / "mixed-legacy"
    legacy.mkdir(parents=True, exist_ok=True)
    torch.save(state, legacy / "pytorch_model.bin", _use_new_zipfile_serialization=False)
    expected = {k: v.contiguous().clone() for k, v in state.items() if v.is_floating_point()}
    save_file(expected, OUT / "mixed-expected.safetensors")
    for f in sorted(OUT.rglob("*")):
        if f.is_file():
            print(f.relative_to(ROOT), f.stat().st_size)


if __name__ == "__main__":
    main()
