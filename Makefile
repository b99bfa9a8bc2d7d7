# Talus — top-level commands. `make up` starts a local cluster, `make test`
# runs the whole suite. CMake does the building.

BUILD     ?= build
SAN_BUILD ?= build-san
TSAN_BUILD ?= build-tsan
DATA      ?= data
PORT      ?= 5433
NODE_PORT ?= 7100
ADMIN_PORT ?= 9100
ROUTER_ADMIN_PORT ?= 9200
REPLICAS  ?= 3
SECURE    ?=
JOBS      ?= $(shell nproc)
MAKEFLAGS += --no-print-directory

.PHONY: all deps build build-san tsan up down status test unit integration stress difftest valgrind test-deploy format format-check clean

all: build

deps:
	@scripts/install-deps --if-missing

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-san: deps
	@cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTALUS_SANITIZE=ON >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)

up: build
	@BUILD=$(BUILD) DATA=$(DATA) PORT=$(PORT) NODE_PORT=$(NODE_PORT) \
	  ADMIN_PORT=$(ADMIN_PORT) ROUTER_ADMIN_PORT=$(ROUTER_ADMIN_PORT) \
	  REPLICAS=$(REPLICAS) SECURE=$(SECURE) scripts/cluster up

down:
	@BUILD=$(BUILD) DATA=$(DATA) scripts/cluster down

status:
	@BUILD=$(BUILD) DATA=$(DATA) scripts/cluster status

SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# The whole suite, under AddressSanitizer and UndefinedBehaviorSanitizer
# (the stress runs short).
test: build-san format-check
	@cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j 2

# The stress runs, long: more rounds, the UPDATE over 1,000,000 rows.
stress: build-san
	@cd $(SAN_BUILD) && $(SAN_ENV) TALUS_STRESS=long \
	  ctest --output-on-failure -L stress

unit: build-san
	@cd $(SAN_BUILD) && ctest --output-on-failure -L unit

integration: build-san
	@cd $(SAN_BUILD) && ctest --output-on-failure -L integration

# A long differential run against PostgreSQL 15 (tests/difftest/README.md):
# N queries from seed SEED over FEATURES (default all), the minimised
# mismatches written to difftest-out/.
N        ?= 2000
SEED     ?= 1
FEATURES ?= all
difftest: build
	@mkdir -p difftest-out
	@cd $(BUILD) && DIFFTEST_N=$(N) DIFFTEST_SEED=$(SEED) \
	  DIFFTEST_FEATURES=$(FEATURES) DIFFTEST_OUT=$(CURDIR)/difftest-out \
	  tests/test_difftest

# The storage node's tests under ThreadSanitizer: its unit tests (raft
# fixture, applier, reads, transport), the replication and restart
# integration tests, and the admin plane's (scrapes on nng's threads
# reading what the loop publishes), every binary built with
# -fsanitize=thread.
TSAN_TESTS = 'unit\.test_(node_|raft_)|integration\.test_(repl_|restart|admin$$)'
tsan: deps
	@cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTALUS_TSAN=ON >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS)
	@rm -rf $(TSAN_BUILD)/tsan-reports && mkdir -p $(TSAN_BUILD)/tsan-reports
	@cd $(TSAN_BUILD) && TSAN_OPTIONS="second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp log_path=$(CURDIR)/$(TSAN_BUILD)/tsan-reports/report" \
	  ctest --output-on-failure -j 2 -R $(TSAN_TESTS)
	@# The nodes the integration tests start report into files too: any
	@# report of any process fails the run.
	@if ls $(TSAN_BUILD)/tsan-reports/* >/dev/null 2>&1; then \
	  cat $(TSAN_BUILD)/tsan-reports/*; echo "ThreadSanitizer reported races"; exit 1; fi

# Router and node under valgrind memcheck on a SQL workload (release build).
valgrind: build
	@scripts/valgrind-check $(BUILD)

# The compose deployment with a real Docker engine (tests/deploy/run):
# image build, `up`, SQL, a node stopped, `down`/`up`. Needs root; starts
# and stops its own dockerd when none answers.
test-deploy: deps
	@JOBS=$(JOBS) tests/deploy/run

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.c' '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
