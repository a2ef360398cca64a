#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads outside input, with libFuzzer (swiftc -sanitize=fuzzer).
#
#   scripts/fuzz.sh [TARGET|all] [SECONDS]     build, then run TARGET (default: all) for SECONDS each (default 60)
#   scripts/fuzz.sh build [TARGET|all]         build only
#   scripts/fuzz.sh run [TARGET|all] [SECONDS]   run already built fuzzers
#   scripts/fuzz.sh merge [TARGET|all]         minimise the checked-in corpus with what the runs found (-merge=1)
#   scripts/fuzz.sh repro TARGET FILE...       run the fuzzer on FILEs once (a crash artifact, a regression input)
#
# Each target is compiled with swiftc straight from the few module sources it needs (no SwiftPM rebuild of the
# package and its dependencies with coverage): QuiverTensor, QuiverCodec (+ zlib), a subset of QuiverStore with
# a stand-in for swift-crypto's SHA256 (Fuzz/Stubs/Crypto.swift), of QuiverModel's tokenizer, and of QuiverHub's
# request parsers (+ swift-http-types from .build/checkouts). The harness file is compiled into the module it
# tests, so it reaches internal parsers. Binaries, new corpus entries and crash artifacts go to .build/fuzz/;
# the seed corpora are Fuzz/corpus/TARGET (kept small: `merge` after a run). The `http` target is the exception:
# the whole server, built by SwiftPM (Fuzz/HTTP/FuzzHTTP.swift). See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(safetensors json torch codec configs manifest tokenizer subword data hub http)
OUT=.build/fuzz
# A crash is reported by libFuzzer (and ASan) at once; Swift's own backtracer would add a minute per crash.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
SWIFTC=${SWIFTC:-swiftc}
FLAGS=(-sanitize=fuzzer,address -parse-as-library -O -g -swift-version 6 -package-name Quiver)

tensor_sources() {
    echo Sources/QuiverTensor/DType.swift Sources/QuiverTensor/FloatConversion.swift Sources/QuiverTensor/MappedFile.swift \
        Sources/QuiverTensor/JSON/*.swift Sources/QuiverTensor/Safetensors/*.swift \
        Sources/QuiverTensor/Kernels/Activation.swift Sources/QuiverTensor/Kernels/VectorMath.swift \
        Sources/QuiverTensor/Kernels/Parallel.swift Sources/QuiverTensor/Kernels/HelperTeam.swift
}
# The formats layer: files, kinds, every kind's configuration and tensor names, and the tokenizers (a base's folder
# says whether its tokenizer loads); no engine: AdapterFolder, which loads the engine's adapters to check them at
# push, stays out.
model_sources() {
    echo Sources/QuiverModel/QuiverError.swift Sources/QuiverModel/Locked.swift Sources/QuiverModel/Files/*.swift \
        Sources/QuiverModel/Inference/PassBudget.swift Sources/QuiverModel/Encoder/EmbeddingPooling.swift \
        Sources/QuiverModel/Tokenizer/*.swift
    ls Sources/QuiverModel/Formats/*.swift | grep -v /AdapterFolder.swift
    ls Sources/QuiverModel/Kinds/*/*Config.swift Sources/QuiverModel/Kinds/*/*TensorNames.swift Sources/QuiverModel/Kinds/PEFT/*.swift | sort -u
}
store_sources() {
    echo Sources/QuiverStore/Blobs/BlobEncoding.swift Sources/QuiverStore/Blobs/BlobDescriptor.swift \
        Sources/QuiverStore/Blobs/ContentLimits.swift \
        Sources/QuiverStore/Manifest/*.swift Sources/QuiverStore/Registry/Reference.swift
}
hub_sources() {
    echo Sources/QuiverHub/DistributionHeader.swift Sources/QuiverHub/Server/RegistryError.swift \
        Sources/QuiverHub/Server/APIError.swift Sources/QuiverHub/Server/ByteRanges.swift \
        Sources/QuiverHub/Server/DistributionRoute.swift Sources/QuiverHub/Server/RepositoryName.swift \
        Sources/QuiverHub/Server/InferenceRequest.swift Sources/QuiverHub/Server/EmbeddingsRequest.swift \
        Sources/QuiverHub/Server/ServerSettings.swift \
        Sources/QuiverHub/Server/HostAllowList.swift \
        Sources/QuiverHub/Client/AuthChallenge.swift
}

# module NAME DIR SOURCES... — a coverage-instrumented library module (object + .swiftmodule) in DIR.
module() {
    local name=$1 dir=$2
    shift 2
    "$SWIFTC" "${FLAGS[@]}" -wmo -module-name "$name" -I "$dir" -I Sources/CZlib \
        -emit-module -emit-module-path "$dir/$name.swiftmodule" -emit-object -o "$dir/$name.o" "$@"
}

# binary TARGET MODULE DIR LIBS SOURCES... — the fuzzer: MODULE's SOURCES plus the harness, linked with DIR/*.o.
binary() {
    local target=$1 name=$2 dir=$3 libs=$4
    shift 4
    # shellcheck disable=SC2086
    "$SWIFTC" "${FLAGS[@]}" -module-name "$name" -I "$dir" -I Sources/CZlib "$@" "Fuzz/Targets/$target.swift" \
        $(ls "$dir"/*.o 2>/dev/null) $libs -o "$OUT/$target" 2>&1 | { grep -v "Cannot export local symbol" || true; }
}

build() {
    local target=$1 dir=$OUT/modules/$1
    rm -rf "$dir" && mkdir -p "$dir"
    echo "building $target"
    case $target in
        safetensors | json) binary "$target" QuiverTensor "$dir" "" $(tensor_sources) ;;
        torch) binary torch QuiverTensor "$dir" "" $(tensor_sources) Sources/QuiverTensor/Torch/*.swift ;;
        codec) binary codec QuiverCodec "$dir" -lz Sources/QuiverCodec/*.swift ;;
        configs)
            module QuiverTensor "$dir" $(tensor_sources) Sources/QuiverTensor/Torch/*.swift
            module Crypto "$dir" Fuzz/Stubs/Crypto.swift
            binary configs QuiverModel "$dir" "" $(model_sources) ;;
        manifest)
            module QuiverTensor "$dir" $(tensor_sources) Sources/QuiverTensor/Torch/*.swift
            module Crypto "$dir" Fuzz/Stubs/Crypto.swift
            module QuiverModel "$dir" $(model_sources)
            binary manifest QuiverStore "$dir" "" $(store_sources) ;;
        tokenizer | subword)
            module QuiverTensor "$dir" $(tensor_sources)
            binary "$target" QuiverModel "$dir" "" Sources/QuiverModel/Tokenizer/*.swift Sources/QuiverModel/Locked.swift ;;
        data)
            module QuiverTensor "$dir" $(tensor_sources) Sources/QuiverTensor/Torch/*.swift
            module Crypto "$dir" Fuzz/Stubs/Crypto.swift
            binary data QuiverModel "$dir" "" $(model_sources) Sources/QuiverModel/Data/*.swift Sources/QuiverModel/Samples/SeededGenerator.swift ;;
        hub)
            local http=.build/checkouts/swift-http-types/Sources/HTTPTypes
            [ -d "$http" ] || { echo "fuzz.sh: $http missing: run 'swift package resolve' first" >&2; exit 1; }
            module QuiverTensor "$dir" $(tensor_sources) Sources/QuiverTensor/Torch/*.swift
            module Crypto "$dir" Fuzz/Stubs/Crypto.swift
            module QuiverModel "$dir" $(model_sources)
            module QuiverStore "$dir" $(store_sources)
            module HTTPTypes "$dir" "$http"/*.swift
            binary hub QuiverHub "$dir" "" $(hub_sources) Fuzz/Stubs/Registry.swift ;;
        http)
            # The whole server (Hummingbird, NIO, GRDB, swift-crypto): SwiftPM builds the package with
            # coverage and ASan once in its own scratch folder; later builds are incremental.
            # swiftc takes only the last -sanitize= flag: SwiftPM's two (fuzzer, then address) would leave the Swift
            # code without coverage, so the combined flag comes last (clang combines the two itself).
            swift build --product quiver-fuzz-http --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
                -Xswiftc -DQUIVER_LIBFUZZER \
                --scratch-path "$OUT/spm" 2>&1 | grep -E "error|complete!" || true
            cp "$OUT/spm/debug/quiver-fuzz-http" "$OUT/http" ;;
        *) echo "fuzz.sh: unknown target '$target' (${TARGETS[*]})" >&2; exit 2 ;;
    esac
}

# Hummingbird's router test mode (the http target) makes an embedded NIO channel per request and never closes
# it (a reference cycle): LeakSanitizer would report that after every input and at exit. The subword target keeps
# tokenizers alive in globals (and configs the tensor-name patterns of the families and heads) whose indirect enums
# (pre-tokenizers, normalizers) and Swift Regex trees
# LeakSanitizer reports as leaked at exit, apparently not following tagged payload pointers (a five-line program
# that keeps one Regex in a global gets the same report; see docs/fuzzing.md).
asan_options() {
    case $1 in
        http | subword | configs) echo ASAN_OPTIONS=detect_leaks=0 ;;
        *) echo "ASAN_OPTIONS=${ASAN_OPTIONS:-}" ;;
    esac
}

run() {
    local target=$1 seconds=$2
    mkdir -p "$OUT/corpus/$target" "$OUT/artifacts/$target" "Fuzz/corpus/$target"
    echo "fuzzing $target for ${seconds}s"
    # New inputs go to the first (scratch) folder; the checked-in corpus is only read.
    local options=()
    [ -f "Fuzz/dict/$target.dict" ] && options=(-dict="Fuzz/dict/$target.dict")
    env "$(asan_options "$target")" "$OUT/$target" "${options[@]}" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$target/" "$OUT/corpus/$target" "Fuzz/corpus/$target" \
        2>&1 | tee "$OUT/$target.log" | grep -E "^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Fatal|.*fatalError)" || true
}

merge() {
    local target=$1 merged=$OUT/merged/$1
    rm -rf "$merged" && mkdir -p "$merged"
    # Edges only (-use_counters=0): keeps one input per covered edge, a corpus of at most a few hundred files.
    env "$(asan_options "$target")" "$OUT/$target" -merge=1 -use_counters=0 -max_len=65536 "$merged" "Fuzz/corpus/$target" "$OUT/corpus/$target" 2>&1 | tail -1
    rm -rf "Fuzz/corpus/$target" && mv "$merged" "Fuzz/corpus/$target"
    echo "$target: $(ls "Fuzz/corpus/$target" | wc -l) files, $(du -sk "Fuzz/corpus/$target" | cut -f1) KiB"
}

select_targets() { if [ "${1:-all}" = all ]; then echo "${TARGETS[@]}"; else echo "$1"; fi; }

mkdir -p "$OUT"
case ${1:-all} in
    build) for t in $(select_targets "${2:-all}"); do build "$t"; done ;;
    merge) for t in $(select_targets "${2:-all}"); do merge "$t"; done ;;
    run) for t in $(select_targets "${2:-all}"); do run "$t" "${3:-60}"; done ;;
    repro) target=$2; shift 2; env "$(asan_options "$target")" "$OUT/$target" -runs=1 "$@" ;;
    *)
        seconds=${2:-60}
        for t in $(select_targets "${1:-all}"); do build "$t"; run "$t" "$seconds"; done ;;
esac
