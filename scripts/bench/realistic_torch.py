#!/usr/bin/env python3
"""The PyTorch side of `quiver-bench realistic`: real sentences of varied length run the way users of
`transformers` and `adapters` run them, timed from the texts (tokenization included) on request.

    realistic_torch.py --model DIR --adapter DIR --sentences FILE [--max-length 128] [--batch-size 32] [--threads 2]

    DIR (--adapter)  one seq_bn adapter with a 2-layer classification head, in the `adapters` library's saved
                     layout (written by the benchmark; Quiver loads the same folder)
    FILE             the sentences, one JSON string per line, in the order to run them

Each pass is what a user of these libraries writes: a `torch.utils.data.DataLoader` over the sentences (batches of
`--batch-size`, in order, no sorting by length, no worker processes), each batch tokenized with
`tokenizer(batch, padding=True, truncation=True, max_length=…, return_tensors="pt")` and run under
`torch.inference_mode()` on `torch.set_num_threads(--threads)` threads:

    predict  AutoAdapterModel with the adapter loaded (`load_adapter`, `set_active_adapters`) and its head: logits
    embed    the plain transformers AutoModel, mean of the last hidden states over the attention mask
    tokenize the tokenizer alone, batch by batch (where the time goes; no outputs)

Once ready it prints one JSON line {"ready": true, "torch": ..., "max_rss_kb": ..., ...}, then answers each request
line with one JSON line:

    time CASE     ->  {"seconds": s}           one timed pass over all the sentences
    values CASE FILE -> {"rows": n, "cols": m} one pass's outputs, one row per sentence, written to FILE as
                                             little-endian float32 (for the parity check; a file, not JSON, so
                                             that neither process grows by parsing it)
    memory        ->  {"max_rss_kb": n}        this process's peak resident memory so far (getrusage)
    quit
"""

import argparse
import json
import logging
import os
import resource
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
import transformers  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

transformers.logging.set_verbosity_error()
logging.getLogger("adapters").setLevel(logging.ERROR)

import adapters  # noqa: E402
from adapters import AutoAdapterModel  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter", required=True)
    parser.add_argument("--sentences", required=True)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    bench = Bench(args)
    reply(
        {
            "ready": True,
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "adapters": adapters.__version__,
            "tokenizer": type(bench.tokenizer).__name__,
            "torch_parallel": torch.__config__.parallel_info().splitlines()[0:4],
            "max_rss_kb": max_rss_kb(),
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
                run = bench.case(words[1])
                start = time.perf_counter()
                run()
                reply({"seconds": time.perf_counter() - start})
            elif words[0] == "values":
                values = bench.case(words[1])()
                values.numpy().astype("<f4").tofile(words[2])
                reply({"rows": values.shape[0], "cols": values.shape[1]})
            elif words[0] == "memory":
                reply({"max_rss_kb": max_rss_kb()})
            else:
                reply({"error": f"unknown request {words[0]!r}"})
        except Exception as error:  # reported to the benchmark, which prints it and stops
            reply({"error": f"{type(error).__name__}: {error}"})


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def max_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


class Bench:
    def __init__(self, args):
        self.max_length = args.max_length
        with open(args.sentences, encoding="utf-8") as handle:
            self.sentences = [json.loads(line) for line in handle]
        self.loader = DataLoader(self.sentences, batch_size=args.batch_size, shuffle=False)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(args.model)
        self.plain = transformers.AutoModel.from_pretrained(args.model).eval()
        self.model = AutoAdapterModel.from_pretrained(args.model)
        name = self.model.load_adapter(args.adapter, with_head=True, use_safetensors=True)
        self.model.set_active_adapters(name)
        self.model.active_head = name
        self.model.eval()

    def case(self, name):
        """A function running one pass of case `name` over all the sentences and returning its outputs."""
        if name == "predict":
            return self.predict
        if name == "embed":
            return self.embed
        if name == "tokenize":
            return self.tokenize_all
        raise ValueError(f"unknown case {name!r}")

    def tokenize(self, batch):
        return self.tokenizer(batch, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")

    def tokenize_all(self):
        for batch in self.loader:
            self.tokenize(batch)

    def predict(self):
        outputs = []
        with torch.inference_mode():
            for batch in self.loader:
                outputs.append(self.model(**self.tokenize(batch)).logits)
        return torch.cat(outputs)

    def embed(self):
        outputs = []
        with torch.inference_mode():
            for batch in self.loader:
                inputs = self.tokenize(batch)
                hidden = self.plain(**inputs).last_hidden_state
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                outputs.append((hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9))
        return torch.cat(outputs)


if __name__ == "__main__":
    main()
