#!/usr/bin/env bash
# The Quiver demo: a base model and several task adapters into the embedded registry, listed with
# their parameter counts, one pulled back out bit for bit. Run it with `make demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

quiver=${QUIVER:-.build/release/quiver}
export QUIVER_HOME=${QUIVER_HOME:-$PWD/registry}
out=demo-output
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Making demo data"
cat <<'NOTE'
This machine has no network, so the demo makes its own data, deterministically (seed 42): a small
BERT-shaped base model (4 layers, hidden size 128), five task adapters and one AdapterFusion with RANDOM weights,
written in the Hugging Face, `adapters` library and PEFT folder layouts, so the real import paths run.
NOTE
rm -rf "$out"
"$quiver" sample "$out/samples" --seed 42 >/dev/null
ls "$out/samples"

step "quiver base add $out/samples/tiny-bert"
"$quiver" base add "$out/samples/tiny-bert"

for task in sentiment topic language-id entailment; do
    step "quiver push $task $out/samples/$task"
    "$quiver" push "$task" "$out/samples/$task" --description "demo $task adapter (random weights)"
done
step "quiver push paraphrase $out/samples/paraphrase-peft   (a PEFT LoRA folder)"
"$quiver" push paraphrase "$out/samples/paraphrase-peft"

step "quiver fuse sentiment,topic --as review --from $out/samples/review-fusion   (an AdapterFusion saved by the adapters library)"
"$quiver" fuse sentiment,topic --as review --from "$out/samples/review-fusion"

step "quiver list"
"$quiver" list

step "quiver show sentiment"
"$quiver" show sentiment

step "quiver pull sentiment --output $out/pulled/sentiment"
"$quiver" pull sentiment --output "$out/pulled/sentiment"
for file in "$out"/samples/sentiment/*; do
    cmp "$file" "$out/pulled/sentiment/$(basename "$file")"
done
echo "every file pulled back is bit-identical to the one pushed"

step "quiver infer review \"great screen, slow delivery\" \"the match ended in a draw\""
echo "(random weights: the labels are arbitrary, the point is that the fusion runs)"
"$quiver" infer review "great screen, slow delivery" "the match ended in a draw"

step "quiver infer --tasks sentiment,topic,review --json \"a quiet, lovely film\"   (three tasks, one pass)"
"$quiver" infer --tasks sentiment,topic,review --json "a quiet, lovely film" | head -20
echo "…"

step "Making labelled data: $out/mood-train.jsonl (48 examples) and $out/mood-dev.jsonl (16)"
positive=(great excellent love happy best) negative=(terrible bad boring hate worst) filler=(the movie film story was this)
for split in train:48 dev:16; do
    name=${split%%:*} count=${split##*:}
    for ((i = 0; i < count; i++)); do
        k=$((i * 7 + ${#name}))
        if ((i % 2 == 0)); then word=${positive[k % 5]} label=positive; else word=${negative[k % 5]} label=negative; fi
        printf '{"text": "%s %s %s %s", "label": "%s"}\n' "${filler[k % 6]}" "$word" "${filler[(k / 6) % 6]}" "${filler[(k + 3) % 6]}" "$label"
    done >"$out/mood-$name.jsonl"
done
head -2 "$out/mood-train.jsonl"

step "quiver train mood --data $out/mood-train.jsonl --eval $out/mood-dev.jsonl --epochs 2 --batch-size 8 --max-length 16"
echo "(a random base model gives every text nearly the same features: expect chance-level scores; the point is that"
echo " the whole loop runs — seeded, evaluated each epoch, the best epoch stored with its record)"
"$quiver" train mood --data "$out/mood-train.jsonl" --eval "$out/mood-dev.jsonl" --epochs 2 --batch-size 8 --max-length 16

step "quiver eval mood --data $out/mood-dev.jsonl"
"$quiver" eval mood --data "$out/mood-dev.jsonl"

step "quiver show mood   (the training record: options, data digests, epochs)"
"$quiver" show mood | sed -n '/training:/,/files:/p' | sed '$d'

step "quiver verify"
"$quiver" verify
printf '\nThe registry is in %s (set QUIVER_HOME to use another).\n' "$QUIVER_HOME"
