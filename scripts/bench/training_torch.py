#!/usr/bin/env python3
"""The PyTorch side of `quiver-bench training`: training steps of the `adapters` library (AdapterHub) on the
same base model and the same token ids as Quiver, timed.

    training_torch.py --model DIR --inputs FILE --case single|fusion --threads N [--members 3] [--steps 30]

    FILE   {"batches": [{"batch": 16, "length": T, "ids": [...], "mask": [...], "labels": [...]}, ...]}:
           token ids and attention masks row-major, padded per batch, written by the benchmark

CASE single: a `seq_bn` adapter (reduction factor 16) and a 2-layer classification head, `train_adapter`.
CASE fusion: `--members` seq_bn adapters (frozen), a dynamic AdapterFusion over them and a new head,
             `train_adapter_fusion` (the library's regularisation of the value matrices is added to the loss).

A step is what the Hugging Face `Trainer` does: `model.train()` (dropout on), forward with labels, backward,
`clip_grad_norm_(…, 1.0)`, AdamW step, linear schedule step, `zero_grad`. The first `--warmup` steps are not
timed. Prints one JSON line: {"examples_per_second": …, "steps": …, "seconds": …, "threads": …, versions…}.

(`quiver-bench training --accuracy` compares whole runs instead, with scripts/bench/accuracy_torch.py.)
"""

import argparse
import json
import logging
import math
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
from adapters.composition import Fuse  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--case", choices=["single", "fusion"], required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(42)
    tensors = load_batches(args.inputs)

    model = AutoAdapterModel.from_pretrained(args.model)
    if args.case == "single":
        model.add_adapter("a", config="seq_bn")
        model.add_classification_head("a", num_labels=2)
        model.train_adapter("a")
        model.set_active_adapters("a")
        reg = False
    else:
        names = [f"m{i}" for i in range(args.members)]
        for name in names:
            model.add_adapter(name, config="seq_bn")
        fuse = Fuse(*names)
        model.add_adapter_fusion(fuse, config="dynamic")
        model.add_classification_head(",".join(names), num_labels=2)
        model.train_adapter_fusion(fuse)
        model.set_active_adapters(fuse)
        reg = True
    trainable = [p for p in model.parameters() if p.requires_grad]
    total = args.warmup + args.steps
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.0)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, math.ceil(total * 0.1), total)
    model.train()

    def step(i):
        ids, mask, labels = tensors[i % len(tensors)]
        out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids), labels=labels)
        loss = out.loss
        if reg:
            extra = model.base_model.get_fusion_regularization_loss()
            if extra is not None:
                loss = loss + extra
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        return ids.shape[0]

    for i in range(args.warmup):
        step(i)
    examples = 0
    start = time.perf_counter()
    for i in range(args.warmup, total):
        examples += step(i)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "examples_per_second": examples / seconds,
                "steps": args.steps,
                "seconds": seconds,
                "threads": args.threads,
                "trainable_parameters": sum(p.numel() for p in trainable),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "adapters": adapters.__version__,
                "python": sys.version.split()[0],
            }
        )
    )


def load_batches(path):
    """(ids, mask, labels) tensors of each batch of a file written by the benchmark."""
    with open(path) as f:
        batches = json.load(f)["batches"]
    tensors = []
    for b in batches:
        shape = (b["batch"], b["length"])
        tensors.append(
            (
                torch.tensor(b["ids"], dtype=torch.long).view(shape),
                torch.tensor(b["mask"], dtype=torch.long).view(shape),
                torch.tensor(b["labels"], dtype=torch.long),
            )
        )
    return tensors


if __name__ == "__main__":
    main()
