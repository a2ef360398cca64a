# Quiver — the two set-up commands of the README are `make demo` and `make test`.
# Both install the Debian packages they need when they are missing.

SWIFT ?= swift
DEBIAN_PACKAGES := libsqlite3-dev zlib1g-dev libdnnl-dev docker-registry chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export QUIVER_HOME ?= $(CURDIR)/registry

.PHONY: demo test sanitize trials fuzz deps build bench clean

## demo: build the CLI and run the demo on the embedded registry (registry/)
demo: deps build
	./scripts/demo.sh

## test: run the whole test suite (with all-MiniLM-L6-v2, fetched into .build/minilm/ when missing)
## The encoder and adapter suites run again with the encoder's kernels limited to AVX2, then to oneDNN's sgemm
## alone: the paths a machine without AVX-512 (or without AVX2) takes.
ENCODER_SUITES := Parity|Encoder|Adapter|PackedBatch|MiniLM
test: deps
	$(SWIFT) build --build-tests
	QUIVER_MINILM_DIR="$${QUIVER_MINILM_DIR:-$$(./scripts/minilm.sh)}" $(SWIFT) test --skip-build
	for isa in avx2 none; do \
		QUIVER_MAX_CPU_ISA=$$isa QUIVER_MINILM_DIR="$${QUIVER_MINILM_DIR:-$$(./scripts/minilm.sh)}" \
			$(SWIFT) test --skip-build --filter '$(ENCODER_SUITES)' || exit 1; \
	done

## sanitize: the test suite under AddressSanitizer, then ThreadSanitizer (own build folders; SANITIZERS=thread for one)
## (LeakSanitizer, part of ASan, skips the libraries' own leaks listed in scripts/lsan-suppressions.txt;
## ThreadSanitizer skips the known false positives in scripts/tsan-suppressions.txt)
## The suites that bound how long a server takes run first, on their own: beside the heavy suites a
## sanitized server on 2 cores can take longer than any bound they set.
SANITIZERS ?= address thread
TIMED_SUITES := ServerHostTests|ServerUploadLimitsTests|ServerBlockingTests|ServerInferenceTests
sanitize: deps
	@for s in $(SANITIZERS); do \
		echo "== $$s sanitizer"; \
		$(SWIFT) build --build-tests --sanitize=$$s --scratch-path .build/sanitize-$$s || exit 1; \
		for selection in "--filter" "--skip"; do \
			LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt \
			TSAN_OPTIONS=suppressions=$(CURDIR)/scripts/tsan-suppressions.txt \
			$(SWIFT) test --skip-build --sanitize=$$s --scratch-path .build/sanitize-$$s $$selection '$(TIMED_SUITES)' || exit 1; \
		done; \
	done

## trials: crash trials (SIGKILL at random moments) and disk faults (full, read-only) — docs/reliability.md
trials: deps
	$(SWIFT) build --product quiver
	./scripts/crash-trials.sh $(or $(TRIALS),300) $(or $(SEED),1)
	./scripts/disk-faults.sh

## deps: install the Debian packages Quiver builds against, when missing
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build:
	$(SWIFT) build -c release --product quiver

## bench: side-by-side measurements (see docs/benchmarks.md)
## The peers run in $QUIVER_PYTHON, else the active venv, else python3; each one missing is skipped with a note:
##   pip install torch transformers adapters tokenizers zipnn onnxruntime onnx
bench: deps
	$(SWIFT) build -c release --product quiver
	$(SWIFT) build -c release --product quiver-bench
	.build/release/quiver-bench codec
	.build/release/quiver-bench store
	.build/release/quiver-bench gemm
	.build/release/quiver-bench hub
	.build/release/quiver-bench hub --load 64 --seconds 60
	export QUIVER_MINILM_DIR="$${QUIVER_MINILM_DIR:-$$(./scripts/minilm.sh)}" && .build/release/quiver-bench encoder \
		&& .build/release/quiver-bench tokenizer \
		&& .build/release/quiver-bench adapters && .build/release/quiver-bench realistic \
		&& .build/release/quiver-bench hub --inference --model "$$QUIVER_MINILM_DIR" \
		&& .build/release/quiver-bench training && .build/release/quiver-bench training --accuracy

## fuzz: every libFuzzer target for FUZZ_SECONDS each (default 60), seeded with Fuzz/corpus (docs/fuzzing.md);
## not part of test: it needs its time budget
FUZZ_SECONDS ?= 60
fuzz:
	./scripts/fuzz.sh all $(FUZZ_SECONDS)

clean:
	rm -rf .build demo-output
	find registry -mindepth 1 ! -name README.md -delete
