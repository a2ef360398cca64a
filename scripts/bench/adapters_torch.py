#!/usr/bin/env python3
"""The PyTorch side of `quiver-bench adapters`: the `adapters` library (AdapterHub) on the same base model, the
same adapter weights and the same token ids as Quiver, timed on request.

`quiver-bench adapters` starts this script once and talks to it over stdin/stdout, so that the two sides can be
measured in alternating rounds on the same (shared) machine:

    adapters_torch.py --model DIR --adapters DIR --inputs FILE

    DIR (--adapters)  folders written by the benchmark, in the `adapters` library's saved layout:
                      a0 … a{N-1}   seq_bn adapters with a 2-layer classification head each
                      fuse3, fuse8  dynamic AdapterFusion over a0..a2 / a0..a7, with a head
    FILE (--inputs)   {"32x128": {"batch": 32, "length": 128, "ids": [...]}, ...}: token ids, row-major;
                      the attention mask is all ones and the token types all zeros

Once ready it prints one JSON line {"ready": true, "torch": ..., ...}, then answers each request line with one
JSON line:

    time CASE SHAPE THREADS SECONDS MIN_RUNS   ->  {"best": s, "runs": n}   (warm-up call first, if not done yet)
    logits CASE SHAPE                          ->  {"values": [...]}        (for the parity check)
    quit

CASE is one of: base (plain transformers BertModel, no adapter code), single (a0 + its head), fuse3, fuse8
(Fuse + the fusion's head), parallel3 (Parallel(a0, a1, a2) + their heads: the library's multi-task pass),
separate3 (a0, a1, a2 one after the other), mixed32 (BatchSplit over a0..a31, one row each, with their heads).
Every forward runs in eval mode under torch.inference_mode().
"""

import argparse
import json
import logging
import os
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402

transformers.logging.set_verbosity_error()
logging.getLogger("adapters").setLevel(logging.ERROR)

import adapters  # noqa: E402
from adapters import AutoAdapterModel  # noqa: E402
from adapters.composition import BatchSplit, Fuse, Parallel  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapters", required=True)
    parser.add_argument("--inputs", required=True)
    args = parser.parse_args()

    bench = Bench(args.model, args.adapters, args.inputs)
    reply(
        {
            "ready": True,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "adapters": adapters.__version__,
            "mkldnn": torch.backends.mkldnn.is_available(),
            "torch_parallel": torch.__config__.parallel_info().splitlines()[0:4],
        }
    )
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            if words[0] == "time":
                case, shape, threads, seconds, min_runs = words[1], words[2], int(words[3]), float(words[4]), int(words[5])
                reply(bench.time(case, shape, threads, seconds, min_runs))
            elif words[0] == "logits":
                reply({"values": bench.values(words[1], words[2])})
            else:
                reply({"error": f"unknown request {words[0]!r}"})
        except Exception as error:  # reported to the benchmark, which prints it and goes on
            reply({"error": f"{type(error).__name__}: {error}"})


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Bench:
    def __init__(self, model_dir, adapters_dir, inputs_path):
        torch.manual_seed(0)
        # The reference for "base": transformers alone, without the adapters library's hooks.
        self.plain = transformers.AutoModel.from_pretrained(model_dir).eval()
        self.model = AutoAdapterModel.from_pretrained(model_dir).eval()
        self.count = len([d for d in os.listdir(adapters_dir) if d.startswith("a") and d[1:].isdigit()])
        self.names = [f"a{i}" for i in range(self.count)]
        for name in self.names:
            loaded = self.model.load_adapter(
                os.path.join(adapters_dir, name), load_as=name, with_head=True, use_safetensors=True
            )
            assert loaded == name, (loaded, name)
        self.fusions = {}
        for key, size in (("fuse3", 3), ("fuse8", 8)):
            folder = os.path.join(adapters_dir, key)
            if os.path.isdir(folder) and size <= self.count:
                self.model.load_adapter_fusion(folder, with_head=True, use_safetensors=True)
                self.fusions[key] = self.names[:size]
        self.model.eval()
        with open(inputs_path) as f:
            shapes = json.load(f)
        self.inputs = {}
        for key, shape in shapes.items():
            ids = torch.tensor(shape["ids"], dtype=torch.long).reshape(shape["batch"], shape["length"])
            self.inputs[key] = dict(
                input_ids=ids, attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids)
            )
        self.warm = set()

    # MARK: - Cases

    def composition(self, case, batch):
        """The active adapters and the active head of `case` as one forward of the adapter model on `batch` rows.
        A single adapter is also named by itself (a0, a1, …). (adapters_ort.py exports these same set-ups.)"""
        if case == "single":
            case = "a0"
        if case in self.names:
            return case, case
        if case in ("fuse3", "fuse8"):
            members = self.fusions[case]
            return Fuse(*members), ",".join(members)
        if case == "parallel3":
            return Parallel("a0", "a1", "a2"), Parallel("a0", "a1", "a2")
        if case == "mixed32":
            names = self.names[:batch]
            assert len(names) == batch, f"mixed32 needs {batch} adapters, have {len(self.names)}"
            return BatchSplit(*names, batch_sizes=[1] * batch), BatchSplit(*names, batch_sizes=[1] * batch)
        raise ValueError(f"unknown case {case!r}")

    def runner(self, case, shape):
        """A function running one forward of `case` on `shape` and returning its outputs, as tensors."""
        inputs = self.inputs[shape]
        model = self.model

        def with_adapters(active, head):
            def run():
                model.set_active_adapters(active)
                model.active_head = head
                output = model(**inputs)
                if isinstance(output, list):  # Parallel: one output per head
                    return [o.logits for o in output]
                return [output.logits]

            return run

        if case == "base":
            return lambda: [self.plain(**inputs).last_hidden_state[:, 0, :]]
        if case == "separate3":
            singles = [with_adapters(name, name) for name in self.names[:3]]
            return lambda: [run()[0] for run in singles]
        return with_adapters(*self.composition(case, inputs["input_ids"].shape[0]))

    def time(self, case, shape, threads, seconds, min_runs):
        torch.set_num_threads(threads)
        run = self.runner(case, shape)
        with torch.inference_mode():
            key = (case, shape, threads)
            if key not in self.warm:
                run()
                self.warm.add(key)
            best, runs, start = float("inf"), 0, time.perf_counter()
            while runs < min_runs or time.perf_counter() - start < seconds:
                t0 = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - t0)
                runs += 1
        return {"best": best, "runs": runs, "threads": torch.get_num_threads()}

    def values(self, case, shape):
        torch.set_num_threads(1)
        with torch.inference_mode():
            outputs = self.runner(case, shape)()
        return [float(v) for output in outputs for v in output.reshape(-1).tolist()]


if __name__ == "__main__":
    main()
