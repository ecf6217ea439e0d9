# The README's entry points.
#
#   make demo    bootstrap, build, run the C echo server and client against each other
#   make test    bootstrap, then every test: Swift (SwiftPM), C harness (CTest, and again
#                under ASan/UBSan), Python (when present), ABI check, header/install check
#   make build   the CMake release build in build/
#   make clean
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
BUILD_TYPE     ?= Release
CMAKE_ARGS     ?=

CMAKE_CONFIGURE = cmake -G Ninja -S . -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

.PHONY: bootstrap build build-asan swift-test ctest asan-test python-test check-abi check-header conformance check-pip-install check-swift-package test demo clean

bootstrap:
	@scripts/bootstrap

build:
	$(CMAKE_CONFIGURE) -B $(BUILD_DIR)
	cmake --build $(BUILD_DIR)

# The library is instrumented too; its ASan runtime must match the C side's, so the C
# compiler is the clang that ships with Swift.
build-asan:
	$(CMAKE_CONFIGURE) -B $(ASAN_BUILD_DIR) -DSWIFTUVSTREAM_SANITIZE=ON \
	    -DCMAKE_C_COMPILER="$$(dirname "$$(command -v swiftc)")/clang"
	cmake --build $(ASAN_BUILD_DIR)

# SwiftPM development build and Swift tests (dynamic Swift runtime, no extra flags).
# The output stays on screen; its closing lines are repeated at the end of `make test`.
swift-test:
	swift build
	mkdir -p $(BUILD_DIR)
	swift test 2>&1 | tee $(BUILD_DIR)/swift-test.log

ctest: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure

asan-test: build-asan
	@if [ -e Tests/c/runner.c ]; then \
	    echo "== C harness under ASan/UBSan: $(ASAN_BUILD_DIR)/uvs_ctest"; \
	    ASAN_OPTIONS=$${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	    UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	    $(ASAN_BUILD_DIR)/uvs_ctest; \
	else \
	    echo "== C harness under ASan/UBSan: skipped (Tests/c/runner.c does not exist yet)"; \
	fi

# pytest is installed when missing: with pip, else for the user, else into a venv in
# $(BUILD_DIR)/python-venv (for Pythons that refuse pip installs, PEP 668).
python-test: build
	@if [ -d python/swiftuvstream ] && [ -d Tests/python ]; then \
	    PY=python3; \
	    if ! $$PY -c 'import pytest' 2>/dev/null; then \
	        echo "== Python tests: installing pytest"; \
	        python3 -m pip install --quiet pytest 2>/dev/null \
	        || python3 -m pip install --quiet --user pytest 2>/dev/null \
	        || { python3 -m venv $(BUILD_DIR)/python-venv \
	             && $(BUILD_DIR)/python-venv/bin/python -m pip install --quiet pytest \
	             && PY=$(BUILD_DIR)/python-venv/bin/python; } \
	        || true; \
	    fi; \
	    if $$PY -c 'import pytest' 2>/dev/null; then \
	        echo "== Python tests"; \
	        SWIFTUVSTREAM_LIBRARY=$(CURDIR)/$(BUILD_DIR)/libswiftuvstream.so PYTHONPATH=$(CURDIR)/python \
	            $$PY -m pytest -q -p no:cacheprovider Tests/python; \
	    else \
	        echo "== Python tests: FAILED, pytest is missing and could not be installed (python3 -m pip install pytest)"; \
	        exit 1; \
	    fi; \
	else \
	    echo "== Python tests: skipped (python/swiftuvstream or Tests/python does not exist yet)"; \
	fi

check-abi: build
	scripts/check-abi $(BUILD_DIR)/libswiftuvstream.so

# Also compiles and runs the README's C example.
check-header: build
	scripts/check-header $(BUILD_DIR)

# The conformance runner (Tests/conformance): every scenario on raw libuv and on the uvs_
# API, traces compared. Its last line is "conformance: N passed, N failed".
conformance: build
	@echo "== conformance: raw libuv vs libswiftuvstream ($(BUILD_DIR)/uvs_conformance)"
	$(BUILD_DIR)/uvs_conformance 2>&1 | tee $(BUILD_DIR)/conformance.log

# A separate package depending on this one by path builds and runs an async echo round trip.
check-swift-package:
	scripts/check-swift-package

# `pip install .` into a fresh virtualenv from the committed tree; import from /.
check-pip-install:
	scripts/check-pip-install

test: bootstrap
	$(MAKE) --no-print-directory swift-test
	$(MAKE) --no-print-directory ctest
	$(MAKE) --no-print-directory asan-test
	$(MAKE) --no-print-directory python-test
	$(MAKE) --no-print-directory check-abi
	$(MAKE) --no-print-directory check-header
	$(MAKE) --no-print-directory conformance
	$(MAKE) --no-print-directory check-pip-install
	$(MAKE) --no-print-directory check-swift-package
	@echo "== swift test (closing lines)"
	@tail -n 5 $(BUILD_DIR)/swift-test.log
	@echo "== examples and memory tests, run by ctest (closing lines)"
	@grep -hE '^(worker_pool|tty_cat|memory): .*(passed|SKIPPED.*)$$' $(BUILD_DIR)/Testing/Temporary/LastTest.log || true
	@echo "== conformance (closing line)"
	@tail -n 1 $(BUILD_DIR)/conformance.log
	@echo "== make test: all passed"

demo: bootstrap
	$(MAKE) --no-print-directory build
	scripts/demo $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) .build

# Benchmarks (bench/README.md): every face and peer against raw libuv. `make bench` is the
# full run (report in bench/results/latest.md, about 15-20 minutes); `make bench-quick` a
# short pass (bench/results/quick.md, under 5 minutes). Both print the ratio table.
# `make bench-callgrind`: instructions per round trip, raw libuv vs the C face (callgrind).
.PHONY: bench bench-quick bench-programs bench-callgrind
bench-programs:
	$(CMAKE_CONFIGURE) -B $(BUILD_DIR)
	cmake --build $(BUILD_DIR) --target bench_programs

bench: bench-programs
	python3 bench/run.py --build-dir $(BUILD_DIR)

bench-quick: bench-programs
	python3 bench/run.py --quick --build-dir $(BUILD_DIR)

bench-callgrind: bench-programs
	python3 bench/callgrind.py --build-dir $(BUILD_DIR)
