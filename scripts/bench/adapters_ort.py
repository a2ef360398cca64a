#!/usr/bin/env python3
"""The ONNX Runtime side of `quiver-bench adapters`: the models adapters_torch.py builds (the `adapters` library on
the same base, adapter and fusion folders), each exported with torch.onnx.export with its adapters and head active
and run by ONNX Runtime, plain (ORT_ENABLE_ALL) and through its transformer optimizer (ort_export.py says how).

    adapters_ort.py --model DIR --adapters DIR --inputs FILE --onnx DIR [--cases base,single,…]

--model, --adapters and --inputs are adapters_torch.py's; the exported files go to --onnx DIR. --cases limits the
export to the cases named (adapters_torch.py's case names; all by default).

What is exported: base is transformers' BertModel returning the [CLS] vectors; single, fuse3, fuse8, parallel3 and
mixed32 are the adapter model with that case's set-up active, returning the logits (all heads' rows stacked, as
adapters_torch.py returns them); separate3 runs the exports of a0, a1 and a2 one after the other. The batch and
sequence axes are dynamic, except where the library's Python code fixes a size while tracing (BatchSplit's batch sizes;
Parallel's head split): every export is checked against PyTorch on every shape, and one that does not hold at a shape
is exported again for that shape alone (the notes say so). A case that cannot be exported, or that ONNX Runtime gets
wrong (max |ORT − PyTorch| > 1e-3), is reported in one line and left out.

The library computes attention through `match_attn_matrices_for_parallel`, which repeats query, key and value to
a common batch (×1 unless a Parallel block has multiplied it). Traced, those become Tile nodes between the
projections and the attention product that hide the pattern from the transformer optimizer — no attention is fused.
The export traces the same function with repeats of 1 skipped, which computes the same values and leaves a graph
the optimizer recognises.

Once ready it prints one JSON line
    {"ready": true, "versions": "...", "available": {CASE: {SHAPE: ["ort", "ort-opt"]}}, "notes": ["...", ...]}
(or {"ready": false, "error": "..."}), then answers adapters_torch.py's requests with the variant as last word:

    time CASE SHAPE THREADS SECONDS MIN_RUNS VARIANT   ->  {"best": s, "runs": n}   (a warm-up run first, once)
    logits CASE SHAPE VARIANT                          ->  {"values": [...]}
    quit
"""

import argparse
import json
import os
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

try:
    import torch

    import ort_export
except ImportError as error:  # reported as the first line, and the benchmark goes on without this peer
    missing = error
else:
    missing = None

CASES = ("base", "single", "fuse3", "fuse8", "parallel3", "separate3", "mixed32")


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapters", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--onnx", required=True)
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    if missing:
        needs = "onnxruntime onnx" if missing.name in ("onnxruntime", "onnx") else "torch transformers adapters onnxruntime onnx"
        reply({"ready": False, "error": f"{missing}; pip install {needs}"})
        return
    from adapters_torch import Bench  # the same models, built the same way, as the PyTorch side

    os.makedirs(args.onnx, exist_ok=True)
    peer = OrtPeer(Bench(args.model, args.adapters, args.inputs), args.onnx)
    notes = peer.prepare([case for case in args.cases.split(",") if case])
    reply({"ready": True, "versions": ort_export.versions(), "available": peer.available(), "notes": notes})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "time":
                case, shape, threads, seconds, min_runs, variant = words[1:7]
                reply(peer.time(case, shape, int(threads), float(seconds), int(min_runs), variant))
            elif words[0] == "logits":
                reply({"values": peer.values(words[1], words[2], words[3])})
            else:
                reply({"error": f"unknown request {words[0]!r}"})
        except Exception as error:  # reported to the benchmark, which prints it and goes on
            reply({"error": ort_export.brief(error)})


def without_repeats_of_one(query, key, value):
    """adapters' match_attn_matrices_for_parallel, repeating only the tensors whose batch is smaller."""
    batch = max(query.shape[0], key.shape[0], value.shape[0])

    def matched(tensor):
        if tensor.shape[0] == batch:
            return tensor
        return tensor.repeat(batch // tensor.shape[0], *([1] * (tensor.dim() - 1)))

    return matched(query), matched(key), matched(value)


class OrtPeer:
    def __init__(self, bench, folder):
        self.bench = bench
        self.folder = folder
        self.sessions = ort_export.Sessions()
        # (model, shape) → {variant: file} of the files that passed the check; model is base, a0…, fuse3, …
        self.files = {}
        self.prepared = set()
        self.warm = set()
        config = bench.model.config
        self.heads, self.hidden = config.num_attention_heads, config.hidden_size

    # MARK: - Cases and models

    @staticmethod
    def models(case):
        """The exported models a case runs, in order."""
        return {"single": ["a0"], "separate3": ["a0", "a1", "a2"]}.get(case, [case])

    def shapes(self, case):
        return [shape for shape, inputs in self.bench.inputs.items()
                if case != "mixed32" or inputs["input_ids"].shape[0] == 32]

    def module(self, model, batch):
        """The torch module exported for `model`, called with (input_ids, attention_mask, token_type_ids)."""
        bench = self.bench
        if model == "base":
            return ort_export.Output(bench.plain, lambda output: output.last_hidden_state[:, 0, :])
        active, head = bench.composition(model, batch)
        bench.model.set_active_adapters(active)
        bench.model.active_head = head
        return ort_export.Output(bench.model, lambda output: output.logits)

    def reference(self, model, shape):
        torch.set_num_threads(2)
        with torch.inference_mode():
            outputs = self.bench.runner(model, shape)()
        return torch.cat([output.reshape(-1) for output in outputs]).numpy()

    # MARK: - Export and check

    def prepare(self, cases):
        """Exports, optimizes and checks what `cases` need; returns one note per case."""
        notes = []
        for case in [case for case in cases if case in CASES]:
            if not self.shapes(case):
                notes.append(f"{case}: not measured, no shape of its batch size was asked for")
                continue
            parts = []
            for model in self.models(case):
                if model in self.prepared:
                    continue
                self.prepared.add(model)
                parts.append(self.prepare_model(model, self.shapes(case)))
            notes.append(f"{case}: " + ("; ".join(parts) if parts else "uses the exports above"))
        return notes

    def prepare_model(self, model, shapes):
        """Exports `model` with dynamic axes (static ones for any shape where that does not hold) and keeps the
        (shape, variant) files whose outputs match PyTorch's. Returns what happened, in a few words."""
        inputs = self.bench.inputs
        largest = max(shapes, key=lambda s: inputs[s]["input_ids"].numel())
        batch = inputs[largest]["input_ids"].shape[0]
        dynamic_batch = model != "mixed32"  # BatchSplit names one adapter per row
        example = inputs[largest]["input_ids"][: 2 if dynamic_batch else batch, :16]
        started = time.perf_counter()
        try:
            dynamic = self.export(model, example, model, dynamic_batch=dynamic_batch, dynamic_length=True)
        except Exception as error:
            return f"{model} not measured, torch.onnx.export failed: {ort_export.brief(error)}"
        said = [f"{model} exported and optimized in {time.perf_counter() - started:.0f} s"]
        if dynamic.get("fused") is not None:
            said.append("optimizer fused " + (", ".join(f"{n} {c}" for n, c in dynamic["fused"].items()) or "nothing"))
        else:
            said.append(dynamic["optimizer_error"])
        checks = []
        for shape in shapes:
            files, results, how = dynamic, self.check(model, shape, dynamic), ""
            if isinstance(results["ort"], str):
                # The traced graph holds a size of the example: export this shape with its own sizes.
                how = f" (exported for this shape alone, the dynamic export {results['ort']})"
                try:
                    files = self.export(model, inputs[shape]["input_ids"], f"{model}-{shape}")
                    results = self.check(model, shape, files)
                except Exception as error:
                    checks.append(f"{shape}{how}: not measured, {ort_export.brief(error)}")
                    continue
            for variant, result in results.items():
                if not isinstance(result, str):
                    self.files.setdefault((model, shape), {})[variant] = files[variant]
            described = [f"{v} {r}" if isinstance(r, str) else f"{v} {r:.1e}" for v, r in results.items()]
            checks.append(f"{shape}{how}: " + ", ".join(described))
        return ", ".join(said) + "; max |ORT − PyTorch| at " + "; ".join(checks)

    def export(self, model, example, name, dynamic_batch=False, dynamic_length=False):
        """Writes NAME.onnx (and NAME-optimized.onnx when the optimizer takes it); returns the files made and the
        fused operators, or why the optimizer failed. The axes not dynamic keep the example's sizes."""
        plain = os.path.join(self.folder, f"{name}.onnx")
        optimized = os.path.join(self.folder, f"{name}-optimized.onnx")
        import adapters.models.bert.modeling_bert as library_bert

        original = library_bert.match_attn_matrices_for_parallel
        library_bert.match_attn_matrices_for_parallel = without_repeats_of_one
        try:
            ort_export.export(self.module(model, example.shape[0]), example, plain,
                              dynamic_batch=dynamic_batch, dynamic_length=dynamic_length)
        finally:
            library_bert.match_attn_matrices_for_parallel = original
        files = {"ort": plain}
        try:
            files["fused"] = ort_export.optimize(plain, optimized, self.heads, self.hidden)
            files["ort-opt"] = optimized
        except Exception as error:
            files["optimizer_error"] = f"the transformer optimizer failed: {ort_export.brief(error)}"
        return files

    def check(self, model, shape, files):
        """variant → max |ORT − PyTorch| over the outputs at `shape`, or why the variant cannot be used there."""
        reference = self.reference(model, shape)
        ids = self.bench.inputs[shape]["input_ids"].numpy()
        results = {}
        for variant in ort_export.VARIANTS:
            if variant not in files:
                continue
            try:
                output = self.sessions.get(files[variant], 1).run(None, ort_export.feeds(ids))[0]
                difference, scale = ort_export.max_difference(output.reshape(-1), reference)
            except Exception as error:
                results[variant] = f"fails: {ort_export.brief(error)}"
                self.sessions.close(files[variant])
                continue
            if ort_export.within_tolerance(difference, scale):
                results[variant] = difference
            else:
                results[variant] = f"MISMATCH {difference:.2e} (max |value| {scale:.3f})"
                self.sessions.close(files[variant])
        return results

    def available(self):
        """CASE → SHAPE → the variants that can run it (every model the case needs passed its check)."""
        table = {}
        for case in CASES:
            for shape in self.shapes(case):
                variants = [v for v in ort_export.VARIANTS
                            if all(v in self.files.get((m, shape), {}) for m in self.models(case))]
                if variants:
                    table.setdefault(case, {})[shape] = variants
        return table

    # MARK: - Requests

    def runner(self, case, shape, threads, variant):
        ids = self.bench.inputs[shape]["input_ids"].numpy()
        feeds = ort_export.feeds(ids)
        try:
            sessions = [self.sessions.get(self.files[(m, shape)][variant], threads) for m in self.models(case)]
        except KeyError:
            raise ValueError(f"{case} at {shape} has no checked {variant} model") from None
        return lambda: [session.run(None, feeds)[0] for session in sessions]

    def time(self, case, shape, threads, seconds, min_runs, variant):
        run = self.runner(case, shape, threads, variant)
        key = (case, shape, threads, variant)
        if key not in self.warm:
            run()
            self.warm.add(key)
        best, runs, start = float("inf"), 0, time.perf_counter()
        while runs < min_runs or time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t0)
            runs += 1
        return {"best": best, "runs": runs, "threads": threads}

    def values(self, case, shape, variant):
        outputs = self.runner(case, shape, 1, variant)()
        return [float(v) for output in outputs for v in output.reshape(-1).tolist()]


if __name__ == "__main__":
    main()
