#!/usr/bin/env python3
"""The PyTorch column of bench/run-side-by-side: a worker process the Java harness drives.

    tools/.venv/bin/python tools/bench_torch.py --model DIR --kind bi|cross [--threads 2] [--batch 32] [--pad-id N]
                                                [--device cpu|cuda]

It loads one model the way its users run it on CPU (--kind bi: sentence-transformers' SentenceTransformer
on DIR, i.e. Transformer + mean Pooling + Normalize; --kind cross: transformers'
AutoModelForSequenceClassification, what sentence-transformers' CrossEncoder wraps), in F32 on --device
(cuda: the first GPU, TF32 left off as PyTorch's default has it), then answers requests,
one JSON object per line on stdin, one JSON object per line on stdout:

    {"op": "load", "workload": "a", "file": "ids.json"}  -> {"ok": true, "sequences": 100}
        the token ids the Java harness wrote: {"query": [ids] or null, "seqs": [[ids], ...],
        "types": [[segment ids], ...] or null} (bi: the query and each document; cross: each
        [CLS] q [SEP] d [SEP] or <s> q </s></s> d </s> pair, with its segment ids)
    {"op": "run", "workload": "a", "scores": true}       -> {"ok": true, "seconds": 3.1, "scores": [...]}
    {"op": "quit"}

The first line it writes says whether it can run: {"ok": true, "torch": "2.15.0", ...} or
{"ok": false, "error": "not installed: No module named 'torch'"}. Everything else (warnings, load
messages) goes to stderr.

Timed ("seconds", time.perf_counter): what sentence-transformers' encode / CrossEncoder.predict do after
tokenizing: documents (pairs) sorted by length, longest first (by token count, so the batches are the ORT
way's), batches of --batch padded to the batch's longest with --pad-id, the tensors built, the forward
pass under torch.inference_mode(), pooling and normalisation (bi) or the logit (cross), and the scores
(bi: dot products with the query's embedding, itself a batch of one). Not timed: tokenization (the ids
come from the Java harness so every engine runs the same ids), loading, and this protocol.
"""
import argparse
import json
import os
import sys
import time


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--kind", choices=["bi", "cross"], required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--pad-id", type=int, default=0)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import torch
        import transformers
        # the cross-encoders run through transformers alone; only the bi-encoder needs sentence-transformers
        sentence_transformers = __import__("sentence_transformers") if args.kind == "bi" else None
    except ImportError as e:
        reply({"ok": False, "error": f"not installed: {e}"})
        return 0

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set; harmless
    try:
        t0 = time.perf_counter()
        if args.kind == "bi":
            from sentence_transformers import SentenceTransformer
            model = SentenceTransformer(args.model, device=args.device)
        else:
            from transformers import AutoModelForSequenceClassification
            model = AutoModelForSequenceClassification.from_pretrained(args.model).to(args.device)
        model.eval()
        load_s = time.perf_counter() - t0
    except Exception as e:  # a broken model directory: the harness reports the column as failed
        reply({"ok": False, "error": f"cannot load {args.model}: {type(e).__name__}: {e}"})
        return 0
    reply({"ok": True, "torch": torch.__version__, "transformers": transformers.__version__,
           "sentence_transformers": sentence_transformers.__version__ if sentence_transformers else "not used", "threads": torch.get_num_threads(),
           "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
           "load_seconds": round(load_s, 3)})

    def padded(seqs, fill):
        longest = max(len(s) for s in seqs)
        return torch.tensor([s + [fill] * (longest - len(s)) for s in seqs], dtype=torch.long, device=args.device)

    def mask_of(seqs):
        return padded([[1] * len(s) for s in seqs], 0)

    def embed(seqs):  # SentenceTransformer.forward: Transformer -> Pooling (mean) -> Normalize
        ids = padded(seqs, args.pad_id)
        out = model({"input_ids": ids, "attention_mask": mask_of(seqs), "token_type_ids": torch.zeros_like(ids)})
        return out["sentence_embedding"]

    def logits(seqs, types):
        ids = padded(seqs, args.pad_id)
        segments = padded(types, 0) if types is not None else torch.zeros_like(ids)
        return model(input_ids=ids, attention_mask=mask_of(seqs), token_type_ids=segments, return_dict=True).logits[:, 0]

    def score(query, seqs, types):
        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i]))  # stable, as the Java side sorts
        out = [None] * len(seqs)
        with torch.inference_mode():
            q = embed([query])[0] if args.kind == "bi" else None
            for start in range(0, len(order), args.batch):
                idx = order[start:start + args.batch]
                batch = [seqs[i] for i in idx]
                batch_types = [types[i] for i in idx] if types is not None else None
                values = embed(batch) @ q if args.kind == "bi" else logits(batch, batch_types)
                for j, i in enumerate(idx):
                    out[i] = values[j]
            scores = torch.stack(out).tolist()  # on cuda: waits for the GPU (a copy to the host)
        return scores

    workloads = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = req.get("op")
        try:
            if op == "load":
                with open(req["file"]) as f:
                    data = json.load(f)
                workloads[req["workload"]] = (data.get("query"), data["seqs"], data.get("types"))
                reply({"ok": True, "sequences": len(data["seqs"])})
            elif op == "run":
                query, seqs, types = workloads[req["workload"]]
                t0 = time.perf_counter()
                scores = score(query, seqs, types)
                seconds = time.perf_counter() - t0
                reply({"ok": True, "seconds": seconds, "scores": scores if req.get("scores") else None})
            elif op == "quit":
                break
            else:
                reply({"ok": False, "error": f"unknown op {op!r}"})
        except Exception as e:
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
