#!/usr/bin/env python3
"""The `adapters` library's side of `quiver-bench training --accuracy`: a new seq_bn adapter and classification
head trained the way the library's users train one, once per seed, each scored on held-out sentences.

    accuracy_torch.py --model DIR --train FILE --test FILE --seeds 1,2,3 [--epochs 10] [--lr 1e-3]
                      [--batch-size 16] [--max-length 128] [--threads N]

    FILE   JSON Lines {"text": …, "label": …}, written by the benchmark (the same files Quiver trains on)

The recipe: `AutoAdapterModel`, `add_adapter(SeqBnConfig())` (reduction factor 16), `add_classification_head(layers=2)`
over the training file's labels (sorted), `train_adapter`, then `AdapterTrainer` with `TrainingArguments`: AdamW,
linear schedule with 10 % warm-up, `max_grad_norm` 1, weight decay 0, the seed (`set_seed` before the adapter is
made, and the trainer's own shuffling), dropout on; the tokenizer pads each batch to its longest and truncates at
--max-length. Then the held-out sentences without dropout, accuracy of the arg-max. Prints one JSON line per seed
({"seed", "accuracy", "seconds"}) and a last line with the library versions.
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
from transformers import AutoTokenizer, DataCollatorWithPadding, PrinterCallback, TrainingArguments, set_seed  # noqa: E402

transformers.logging.set_verbosity_error()
logging.getLogger("adapters").setLevel(logging.ERROR)

import adapters  # noqa: E402
from adapters import AdapterTrainer, AutoAdapterModel, SeqBnConfig  # noqa: E402


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--seeds", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default=None, help="scratch folder for the trainer (default: beside --train)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train, test = read(args.train), read(args.test)
    labels = sorted({row["label"] for row in train})
    tokenizer = AutoTokenizer.from_pretrained(args.model)

    def encode(rows):
        return [dict(tokenizer(row["text"], truncation=True, max_length=args.max_length),
                     labels=labels.index(row["label"])) for row in rows]

    train_set, test_set = encode(train), encode(test)
    collator = DataCollatorWithPadding(tokenizer)
    for seed in (int(s) for s in args.seeds.split(",")):
        started = time.perf_counter()
        set_seed(seed)
        model = AutoAdapterModel.from_pretrained(args.model)
        model.add_adapter("licenses", config=SeqBnConfig())
        model.add_classification_head("licenses", num_labels=len(labels), layers=2)
        model.train_adapter("licenses")
        training = TrainingArguments(
            output_dir=args.output or os.path.join(os.path.dirname(os.path.abspath(args.train)), "trainer"),
            num_train_epochs=args.epochs, learning_rate=args.lr, per_device_train_batch_size=args.batch_size,
            warmup_ratio=0.1, lr_scheduler_type="linear", max_grad_norm=1.0, weight_decay=0.0, seed=seed,
            save_strategy="no", report_to=[], logging_strategy="no", disable_tqdm=True, use_cpu=True,
            dataloader_num_workers=0)
        trainer = AdapterTrainer(model=model, args=training, train_dataset=train_set, data_collator=collator)
        trainer.remove_callback(PrinterCallback)
        trainer.train()
        model.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(test_set), 32):
                batch = collator([{k: v for k, v in row.items() if k != "labels"} for row in test_set[start:start + 32]])
                predicted = model(**batch).logits.argmax(dim=-1).tolist()
                correct += sum(p == row["labels"] for p, row in zip(predicted, test_set[start:start + 32]))
        print(json.dumps({"seed": seed, "accuracy": correct / len(test_set), "seconds": time.perf_counter() - started}),
              flush=True)
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__,
                      "adapters": adapters.__version__}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
