#!/usr/bin/env bash
# Crash trials: runs `quiver push`, `pull` (from a local `quiver serve`: several tasks and --all in one
# run, and `--output`), `rm`, `gc` and `fuse` on a scratch registry and kills each with SIGKILL at a
# random moment, then checks that nothing was lost or half-written:
#   - `quiver verify` passes (every catalogued blob exists and matches its digest);
#   - every entry `quiver list --json` shows pulls out completely (digests verified) and runs (`infer`) —
#     each version once, as versions never change and `verify` covers their blobs after every trial;
#   - the registry's tmp/ is empty after the next commands (they clean what killed processes left), but
#     for the unfinished downloads of a killed pull, which the pull run again resumes and consumes;
#   - the killed command, run again, succeeds (or, for `rm`, finds its target already gone).
#
#   scripts/crash-trials.sh [TRIALS] [SEED] [pulls] (default 200 trials, seed 1; QUIVER=path/to/quiver;
#                                                   `pulls`: only the pulls from the remote, batched)
#
# Same seed, same sequence of commands and kill delays. Prints one line per failure and a summary; the
# exit status is the number of failed trials (capped at 100). Figures: docs/reliability.md.
set -uo pipefail
cd "$(dirname "$0")/.."

trials=${1:-200}
seed=${2:-1}
only=${3:-}
quiver=$(realpath "${QUIVER:-.build/debug/quiver}")
[ -x "$quiver" ] || { echo "crash-trials: no quiver binary at $quiver (swift build, or set QUIVER)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/quiver-crash-trials.XXXXXX")
trap 'rm -rf "$work"' EXIT
export QUIVER_HOME=$work/registry
samples=$work/samples
q() { "$quiver" "$@"; }

q sample "$samples" --seed 7 >/dev/null
q base add "$samples/tiny-bert" >/dev/null
q push sentiment "$samples/sentiment" >/dev/null
q push topic "$samples/topic" >/dev/null
folders=(sentiment topic language-id entailment paraphrase-peft)

# The remote: a `quiver serve` over a registry with the same base, twelve adapters and a fusion.
export QUIVER_HOME=$work/remote
q base add "$samples/tiny-bert" >/dev/null
for ((index = 0; index < 12; index++)); do
    q sample "$work/remote-samples" --seed $((100 + index)) >/dev/null
    q push "r$index" "$work/remote-samples/${folders[index % 4]}" >/dev/null
done
q fuse r0,r1 --as rf --from "$samples/review-fusion" >/dev/null
"$quiver" serve --port 0 >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    remote=$(sed -n 's|^serving .* at \(http://[^ ]*\) .*|\1|p' "$work/serve.log")
    [ -n "$remote" ] && break
    sleep 0.1
done
[ -n "$remote" ] || { echo "crash-trials: quiver serve did not start: $(cat "$work/serve.log")" >&2; exit 2; }
export QUIVER_HOME=$work/registry

RANDOM=$seed
killed=0 finished=0 failures=0 checks=0
fail() { echo "trial $trial ($*): FAILED — ${command[*]}"; failed=1; }

# The entries of `list --json` as TASK:VERSION@DIGEST, one per line.
entries() { q list --json | awk -F'"' '$2 == "digest" { digest = $4 } $2 == "task" { task = $4 } $2 == "version" { print task ":" $4 "@" digest }'; }
declare -A loaded  # entries already pulled and run: versions are immutable, and verify covers their blobs

for ((trial = 1; trial <= trials; trial++)); do
    failed=0
    kind=$((RANDOM % 8))
    if [ "$only" = pulls ]; then
        kind=$((6 + kind % 2))
        # Work for the pull: drop the fusion and a few adapters pulled by earlier trials.
        for task in rf "r$((RANDOM % 12))" "r$((RANDOM % 12))" "r$((RANDOM % 12))"; do q rm "$task" >/dev/null 2>&1; done
    fi
    case $kind in
    0 | 1) command=(push "t$((RANDOM % 4))" "$samples/${folders[RANDOM % ${#folders[@]}]}") ;;
    2) command=(pull sentiment --output "$work/pulled") ;;
    3) command=(rm "t$((RANDOM % 4))") ;;
    4) command=(gc) ;;
    5) command=(fuse sentiment,topic --as "f$((RANDOM % 2))" --from "$samples/review-fusion") ;;
    6) command=(pull --all --from "$remote") ;;
    7) command=(pull "r$((RANDOM % 12))" "r$((RANDOM % 12))" rf --from "$remote") ;;
    esac
    delay=$((RANDOM % 250))  # ms: the commands take 50–400 ms in a debug build, so most are killed mid-way

    "$quiver" "${command[@]}" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ $? -eq 137 ]; then killed=$((killed + 1)); else finished=$((finished + 1)); fi

    # The checks, in the order a user would notice a problem.
    output=$(q verify 2>&1) || fail "verify: $(tail -n 1 <<<"$output")"
    for listed in $(entries); do
        [ -z "${loaded[$listed]:-}" ] || continue
        entry=${listed%@*}
        checks=$((checks + 1))
        rm -rf "$work/check"
        output=$(q pull "$entry" --output "$work/check" 2>&1) || fail "pull $entry: $output"
        output=$(q infer "$entry" "crash trial" 2>&1) || fail "infer $entry: $output"
        loaded[$listed]=1
    done
    leftovers=$(ls -A "$QUIVER_HOME/tmp" | grep -v '^download-.*\.part$')
    [ -z "$leftovers" ] || fail "tmp/ not cleaned: $leftovers"
    output=$("$quiver" "${command[@]}" 2>&1)
    status=$?
    if [ $status -ne 0 ] && ! { [ "${command[0]}" = rm ] && [ $status -eq 3 ]; }; then
        fail "retry exit $status: $output"
    fi
    if [ "${command[0]}" = pull ] && [ "${command[1]}" != sentiment ]; then
        parts=$(ls -A "$QUIVER_HOME/tmp")
        [ -z "$parts" ] || fail "downloads left after the pull finished: $parts"
    fi
    failures=$((failures + failed))
done

echo "crash trials: $trials trials (seed $seed): $killed killed mid-command, $finished finished before the kill; $checks entry checks; $failures failed"
exit $((failures > 100 ? 100 : failures))
