#!/usr/bin/env python3
"""The ONNX Runtime side of `quiver-bench encoder`: the MiniLM BertModel exported to ONNX and run by ONNX Runtime,
plain (ORT_ENABLE_ALL) and through its transformer optimizer (ort_export.py says how), on the same token ids as
Quiver and PyTorch, timed on request.

    encoder_ort.py --model DIR --inputs FILE [--onnx DIR]

    FILE     [{"batch": B, "length": T, "ids": [...]}, ...]: the shapes, token ids row-major; the attention mask is
             all ones and the token types all zeros
    --onnx   keep the exported files in DIR (default: a temporary folder, removed at exit)

Before answering it checks every variant on every shape against PyTorch's BertModel (all outputs); a variant off by
more than 1e-3 is reported as a MISMATCH and not timed. Its first line is one JSON object:

    {"ready": true, "versions": "...", "variants": ["ort", "ort-opt"], "notes": ["...", ...]}
    {"ready": false, "error": "..."}      (onnxruntime missing, or the export failed)

then each request line {"shape": INDEX, "threads": N, "budget": SECONDS, "minimum": RUNS, "variant": "ort"} is
answered with {"times": [...], "first_token": [...]} (item 0's first hidden vector, for the check against Quiver):
one warm-up run, then runs until `budget` seconds have passed and at least `minimum` runs — the PyTorch column's rule.
It stops at `quit` or at the end of its input.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")


try:
    import numpy as np
    import torch
    from transformers import BertModel

    import ort_export
except ImportError as error:  # reported as the first line, and the benchmark goes on without this peer
    missing = error
else:
    missing = None


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--onnx")
    args = parser.parse_args()
    if missing:
        needs = "onnxruntime onnx" if missing.name in ("onnxruntime", "onnx") else "torch transformers onnxruntime onnx"
        reply({"ready": False, "error": f"{missing}; pip install {needs}"})
        return
    if args.onnx:
        os.makedirs(args.onnx, exist_ok=True)
        serve(args, args.onnx)
    else:
        with tempfile.TemporaryDirectory(prefix="quiver-bench-encoder-ort-") as folder:
            serve(args, folder)


def serve(args, folder):
    model = BertModel.from_pretrained(args.model).eval()  # as the PyTorch column loads it
    config = model.config
    with open(args.inputs) as f:
        shapes = [np.asarray(s["ids"], dtype=np.int64).reshape(s["batch"], s["length"]) for s in json.load(f)]

    files = {"ort": os.path.join(folder, "minilm.onnx"), "ort-opt": os.path.join(folder, "minilm-optimized.onnx")}
    notes, available = [], []
    try:
        example = torch.tensor(shapes[0][:2, :16] if shapes[0].shape[1] >= 16 else shapes[0][:2])
        started = time.perf_counter()
        # One output, the last hidden states, as Quiver's encoder returns them (no pooler).
        last_hidden_state = ort_export.Output(model, lambda output: output.last_hidden_state)
        ort_export.export(last_hidden_state, example, files["ort"])
        notes.append(f"exported in {time.perf_counter() - started:.1f} s (opset {ort_export.OPSET}, dynamic batch and sequence)")
    except Exception as error:
        reply({"ready": False, "error": f"torch.onnx.export failed: {ort_export.brief(error)}"})
        return
    try:
        fused = ort_export.optimize(files["ort"], files["ort-opt"], config.num_attention_heads, config.hidden_size)
        notes.append("ort-opt: optimize_model(model_type=bert) fused " + ", ".join(f"{n} {c}" for n, c in fused.items()))
    except Exception as error:
        notes.append(f"ort-opt: not measured, the transformer optimizer failed: {ort_export.brief(error)}")
        files.pop("ort-opt")

    # Every variant against PyTorch on every shape, all outputs, before any timing.
    sessions = ort_export.Sessions()
    torch.set_num_threads(2)
    references = []
    with torch.inference_mode():
        for ids in shapes:
            tensor = torch.from_numpy(ids)
            references.append(
                model(input_ids=tensor, attention_mask=torch.ones_like(tensor)).last_hidden_state.numpy()
            )
    for variant, path in files.items():
        checks, failed = [], None
        for ids, reference in zip(shapes, references):
            name = f"{ids.shape[0]}x{ids.shape[1]}"
            try:
                output = sessions.get(path, 1).run(None, ort_export.feeds(ids))[0]
                difference, scale = ort_export.max_difference(output, reference)
            except Exception as error:
                failed = f"{variant}: not measured, it fails on {name}: {ort_export.brief(error)}"
                break
            checks.append(f"{difference:.1e} at {name}")
            if not ort_export.within_tolerance(difference, scale):
                failed = (f"{variant}: MISMATCH, max |ORT − PyTorch| {difference:.2e} at {name} (max |value| "
                          f"{scale:.2f}); not timed")
                break
        if failed:
            notes.append(failed)
        else:
            notes.append(f"{variant}: max |ORT − PyTorch| over all outputs " + ", ".join(checks))
            available.append(variant)

    reply({"ready": True, "versions": ort_export.versions(), "variants": available, "notes": notes})
    for line in sys.stdin:
        if not line.strip():
            continue
        if line.strip() == "quit":
            break
        request = json.loads(line)
        variant = request.get("variant", "ort")
        if variant not in available:
            reply({"error": f"variant {variant} is not available"})
            continue
        session = sessions.get(files[variant], request["threads"])
        inputs = ort_export.feeds(shapes[request["shape"]])
        output = session.run(None, inputs)[0]
        times, start = [], time.perf_counter()
        while len(times) < request["minimum"] or (
            time.perf_counter() - start < request["budget"] and len(times) < 2000
        ):
            t0 = time.perf_counter()
            output = session.run(None, inputs)[0]
            times.append(time.perf_counter() - t0)
        reply({"times": times, "first_token": output[0, 0, :].tolist()})


if __name__ == "__main__":
    main()
