#!/usr/bin/env bash
# Disk faults: a registry on a small tmpfs that fills up under `quiver push`, then remounted read-only.
# After every refused command: a non-zero exit, a one-line error naming the cause, and an intact registry
# (`verify` passes, `list` unchanged, tmp/ empty); once space is freed, pushes succeed again.
#
#   scripts/disk-faults.sh            (QUIVER=path/to/quiver; SPARE=room left after the base model, default 1500k)
#
# Mounting needs root or an unprivileged user namespace: when not root, the script re-runs itself under
# `unshare --user --map-root-user --mount`. Figures: docs/reliability.md.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] && [ -z "${QUIVER_IN_NAMESPACE:-}" ]; then
    exec env QUIVER_IN_NAMESPACE=1 unshare --user --map-root-user --mount "$0" "$@"
fi

quiver=$(realpath "${QUIVER:-.build/debug/quiver}")
[ -x "$quiver" ] || { echo "disk-faults: no quiver binary at $quiver (swift build, or set QUIVER)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/quiver-disk-faults.XXXXXX")
disk=$work/disk
mkdir -p "$disk"
mount -t tmpfs -o size=64m tmpfs "$disk" || { echo "disk-faults: cannot mount a tmpfs" >&2; exit 2; }
trap 'umount "$disk" 2>/dev/null; rm -rf "$work"' EXIT
export QUIVER_HOME=$disk/registry
q() { "$quiver" "$@"; }
failures=0
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

# Checks that a refused command left the registry as it was.
state() { q list --json 2>/dev/null | grep -E '"(digest|task|version)"'; }
expect_refused() {  # DESCRIPTION EXPECTED-TEXT COMMAND...
    local description=$1 expected=$2
    shift 2
    local before output status
    before=$(state)
    output=$(q "$@" 2>&1)
    status=$?
    [ $status -ne 0 ] || fail "$description: exit 0"
    [ "$(wc -l <<<"$output")" -eq 1 ] || fail "$description: not one line: $output"
    grep -qi "$expected" <<<"$output" || fail "$description: error does not say '$expected': $output"
    echo "  $description → exit $status: $output"
}
expect_intact() {  # DESCRIPTION STATE-BEFORE
    q verify >/dev/null 2>&1 || fail "$1: verify failed"
    [ "$(state)" = "$2" ] || fail "$1: list changed"
    [ -z "$(ls -A "$QUIVER_HOME/tmp")" ] || fail "$1: tmp/ not empty: $(ls -A "$QUIVER_HOME/tmp")"
}

q sample "$work/samples" --seed 1 >/dev/null
q base add "$work/samples/tiny-bert" >/dev/null || fail "base add"
used=$(du -sk "$disk" | cut -f1)
mount -o "remount,size=$((used + ${SPARE:-1500}))k" "$disk"
head -c 262144 /dev/zero >"$disk/ballast"  # what the user deletes later to make room
echo "== a tmpfs with ${SPARE:-1500} KiB left after the base model, filled by pushes of fresh adapters"
pushed=0 refused=0 stored=()
for ((i = 2; i <= 200 && refused < 3; i++)); do
    rm -rf "$work/next" && q sample "$work/next" --seed "$i" >/dev/null
    before=$(state)
    if output=$(q push "task$i" "$work/next/topic" 2>&1); then
        pushed=$((pushed + 1))
        stored+=("task$i")
    else
        refused=$((refused + 1))
        expect_refused "push task$i on a full disk" "space" push "task$i" "$work/next/topic"
        expect_intact "after the refused push of task$i" "$before"
    fi
done
[ $refused -gt 0 ] || fail "the disk never filled"
echo "  $pushed pushes stored before the disk was full; $refused refused"
df -h "$disk" | tail -n 1

echo "== rm on the full disk (SQLite needs room in its log to record a deletion)"
before=$(state)
if output=$(q rm "${stored[0]}" 2>&1); then
    echo "  rm ${stored[0]} succeeded"
    unset 'stored[0]'; stored=("${stored[@]}")
else
    echo "  rm ${stored[0]} → $output"
    expect_intact "after the refused rm" "$before"
fi

echo "== 256 KiB freed outside the registry: rm, gc and push succeed"
rm "$disk/ballast"
q rm "${stored[0]}" >/dev/null && q rm "${stored[1]}" >/dev/null && q gc >/dev/null || fail "rm/gc after freeing space"
q push again "$work/samples/sentiment" >/dev/null 2>&1 || fail "push after freeing space"
q verify >/dev/null 2>&1 || fail "verify after freeing space"

echo "== the registry's disk remounted read-only"
before=$(state)
mount -o remount,ro "$disk"
expect_refused "push to a read-only registry" "writable\|read-only" push readonly "$work/samples/sentiment"
expect_refused "rm on a read-only registry" "writable\|read-only" rm again
mount -o remount,rw "$disk"
expect_intact "after the read-only period" "$before"

echo "disk faults: $pushed pushes stored, $refused refused on a full disk, 2 refused read-only; $failures failures"
exit $((failures > 100 ? 100 : failures))
