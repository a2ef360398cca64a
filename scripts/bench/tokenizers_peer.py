#!/usr/bin/env python3
"""The Hugging Face side of `quiver-bench tokenizer`: the Rust `tokenizers` library on one thread, timing
`Tokenizer.encode` over the same texts as Quiver (no `encode_batch`, which would use several threads).

    tokenizers_peer.py --folder DIR --texts FILE --rounds N --ids FILE

    DIR      a model folder with tokenizer.json (or, for WordPiece, only vocab.txt: BertWordPieceTokenizer, uncased)
    --texts  one JSON string per line
    --ids    where to write the ids of every text, one JSON array per line (for the parity check)

Prints one JSON line: {"tokenizers": version, "seconds": [one per round]}. Truncation and padding are switched
off; special tokens are added (as Quiver's `encode`). Only the encode loops are timed, not the start-up.
"""

import argparse
import json
import os
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import tokenizers  # noqa: E402  (after the thread settings)
from tokenizers import Tokenizer  # noqa: E402


def load(folder):
    path = os.path.join(folder, "tokenizer.json")
    if os.path.exists(path):
        return Tokenizer.from_file(path)
    from tokenizers.implementations import BertWordPieceTokenizer
    return BertWordPieceTokenizer(os.path.join(folder, "vocab.txt"), lowercase=True)._tokenizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", required=True)
    parser.add_argument("--texts", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ids", required=True)
    options = parser.parse_args()
    tokenizer = load(options.folder)
    tokenizer.no_truncation()
    tokenizer.no_padding()
    with open(options.texts, encoding="utf-8") as handle:
        texts = [json.loads(line) for line in handle]
    encode = tokenizer.encode
    seconds = []
    for _ in range(options.rounds):
        start = time.perf_counter()
        for text in texts:
            encode(text)
        seconds.append(time.perf_counter() - start)
    with open(options.ids, "w", encoding="utf-8") as handle:
        for text in texts:
            handle.write(json.dumps(encode(text).ids) + "\n")
    print(json.dumps({"tokenizers": tokenizers.__version__, "seconds": seconds}))


if __name__ == "__main__":
    main()
