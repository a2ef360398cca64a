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
Its second part trains adapters and a fusion on synthetic text tasks, on a second synthetic base.
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

# ---------------------------------------------------------------------------------------------------------------------
# Training and fusion on synthetic data. The random base above gives every text nearly the same features, so nothing
# can be learned on it; `quiver sample --word-features` writes a base whose features carry the words (large word
# embeddings, attention that averages the words into every position; weights fixed, not learned, deterministic).

step "quiver base add word-bert   (a base whose features carry the words: quiver sample --word-features)"
"$quiver" sample "$out/samples" --word-features >/dev/null
"$quiver" base add "$out/samples/word-bert"

step "Making synthetic labelled data (deterministic, seed 7): two source tasks and a target task that needs both"
positive=(great excellent love happy best wonderful superb brilliant delightful fantastic perfect pleasant)
negative=(terrible bad boring hate worst awful poor dreadful horrible disappointing annoying sad)
sports=(game team match goal coach league season player stadium tournament referee score)
business=(market stock price profit company bank shares investor revenue merger budget trade)
filler=(the a this that was is really today again about my our and so very new)
tones=(positive negative) sections=(sports business) desks=(praise complaint)
state=7
random() { state=$(((state * 1103515245 + 12345) % 2147483648)); r=$(((state >> 8) % $1)); }
# make FILE COUNT TASK: COUNT lines of two content words among fillers. TASK tone labels the sentiment word, section
# the topic word, desk both ("sports-praise", "business-complaint", …): the target's label needs what both sources know.
make() {
    local file=$1 count=$2 task=$3 i mood topic w1 w2 f1 f2 f3 label
    for ((i = 0; i < count; i++)); do
        random 2; mood=$r; random 12; if ((mood == 0)); then w1=${positive[r]}; else w1=${negative[r]}; fi
        random 2; topic=$r; random 12; if ((topic == 0)); then w2=${sports[r]}; else w2=${business[r]}; fi
        random 16; f1=${filler[r]}; random 16; f2=${filler[r]}; random 16; f3=${filler[r]}
        random 2; if ((r == 1)); then set -- "$w2" "$w1"; else set -- "$w1" "$w2"; fi
        case $task in
        tone) label=${tones[mood]} ;;
        section) label=${sections[topic]} ;;
        desk) label=${sections[topic]}-${desks[mood]} ;;
        esac
        printf '{"text": "%s %s %s %s %s", "label": "%s"}\n' "$f1" "$1" "$f2" "$2" "$f3" "$label"
    done >"$out/$file"
}
make tone-train.jsonl 480 tone
make section-train.jsonl 480 section
make desk-train.jsonl 24 desk
make desk-test.jsonl 400 desk
wc -l "$out"/{tone-train,section-train,desk-train,desk-test}.jsonl | sed '$d'
head -2 "$out/desk-train.jsonl"
echo "The target has 24 training examples for 4 labels over 48 content words: most words of the test set never appear"
echo "in its training data, but every one appears in the source tasks' 480 examples each."

train_options=(--base word-bert --max-length 16 --lr 1e-3 --warmup-ratio 0.1)
step "quiver train tone --data $out/tone-train.jsonl   (source adapter A: sentiment)"
"$quiver" train tone --data "$out/tone-train.jsonl" "${train_options[@]}" --epochs 4 --batch-size 16
step "quiver train section --data $out/section-train.jsonl   (source adapter B: topic)"
"$quiver" train section --data "$out/section-train.jsonl" "${train_options[@]}" --epochs 4 --batch-size 16

target_options=(--max-length 16 --lr 1e-3 --epochs 30 --batch-size 8 --warmup-ratio 0.1)
step "quiver fuse tone,section --as desk --train $out/desk-train.jsonl   (fusion over A and B, 24 target examples)"
"$quiver" fuse tone,section --as desk --train "$out/desk-train.jsonl" "${target_options[@]}"
step "quiver train desk-single --data $out/desk-train.jsonl   (baseline: one new adapter and head, the same 24 examples)"
"$quiver" train desk-single --base word-bert --data "$out/desk-train.jsonl" "${target_options[@]}"

step "Held-out accuracy on $out/desk-test.jsonl (400 examples, 4 labels: chance is 0.25)"
fused=$("$quiver" eval desk --data "$out/desk-test.jsonl" | sed -n 's/^accuracy *\([0-9.]*\).*/\1/p')
single=$("$quiver" eval desk-single --data "$out/desk-test.jsonl" | sed -n 's/^accuracy *\([0-9.]*\).*/\1/p')
printf '  fusion of tone + section, new head:  %s\n  single new adapter + head:           %s\n' "$fused" "$single"

step "quiver show desk   (the training record: options, data digests, epochs)"
"$quiver" show desk | sed -n '/training:/,/files:/p' | sed '$d'

step "quiver verify"
"$quiver" verify
printf '\nThe registry is in %s (set QUIVER_HOME to use another).\n' "$QUIVER_HOME"
