# Makefile — builds tribune, its tests, simulators, fuzz targets, benchmarks and static binary.
# Sources are discovered, so adding a file under src/ or tests/ needs no edit here.

VERSION    := 0.1.0
CC         ?= cc
PREFIX     ?= /usr/local
SEEDS      ?= 1000
FUZZ_TIME  ?= 30
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
SIMS       ?= raft gossip

WARN       := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
DEFS       := -D_GNU_SOURCE -DTRIBUNE_VERSION='"$(VERSION)"' -Isrc
REL_CFLAGS := $(WARN) $(DEFS) -O2 -g
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CFLAGS:= $(WARN) $(DEFS) -O1 -g $(SAN)

LIB_SRC    := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
MAIN_SRC   := src/main.c
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
SIM_SRC    := $(sort $(wildcard tests/sim/sim_*.c))
SIMLIB_SRC := $(sort $(wildcard tests/sim/lib_*.c))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC  := $(sort $(wildcard bench/*.c))
HDRS       := $(shell find src tests -name '*.h')

REL_OBJ    := $(LIB_SRC:src/%.c=$(BUILD)/rel/%.o)
ASAN_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/asan/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/asan/tests/%)
SIM_BIN    := $(SIM_SRC:tests/sim/%.c=$(BUILD)/rel/tests/%)
SIM_ABIN   := $(SIM_SRC:tests/sim/%.c=$(BUILD)/asan/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/rel/bench/%)

.PHONY: all run check test-deps unit sim fuzz fuzz-build static install bench man-lint clean
all: $(BUILD)/tribune

# Header dependencies are coarse on purpose: any header change rebuilds everything, which is
# cheap at this size and never leaves a stale object behind.
$(BUILD)/rel/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@

$(BUILD)/asan/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(BUILD)/rel/libtribune.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/asan/libtribune.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tribune: $(MAIN_SRC) $(BUILD)/rel/libtribune.a
	$(CC) $(REL_CFLAGS) $< $(BUILD)/rel/libtribune.a -o $@

$(BUILD)/asan/tribune: $(MAIN_SRC) $(BUILD)/asan/libtribune.a
	$(CC) $(ASAN_CFLAGS) $< $(BUILD)/asan/libtribune.a -o $@

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests $< $(BUILD)/asan/libtribune.a -lcmocka -o $@

$(BUILD)/rel/tests/%: tests/sim/%.c $(SIMLIB_SRC) $(BUILD)/rel/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests $< $(SIMLIB_SRC) $(BUILD)/rel/libtribune.a -lm -o $@

$(BUILD)/asan/tests/sim_%: tests/sim/sim_%.c $(SIMLIB_SRC) $(BUILD)/asan/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests $< $(SIMLIB_SRC) $(BUILD)/asan/libtribune.a -lm -o $@

$(BUILD)/rel/bench/%: bench/%.c $(BUILD)/rel/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $< $(BUILD)/rel/libtribune.a -lm -o $@

# Fuzz targets: the library is compiled once by clang with coverage instrumentation
# (fuzzer-no-link), then each target links it with libFuzzer's main.
FUZZ_CC    := clang
FUZZ_SAN   := -fsanitize=address,undefined
FUZZ_OBJ   := $(LIB_SRC:src/%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzzobj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(DEFS) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@

$(BUILD)/fuzzobj/libtribune.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzzobj/libtribune.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(WARN) $(DEFS) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) $< $(BUILD)/fuzzobj/libtribune.a -o $@

run: $(BUILD)/tribune
	./$(BUILD)/tribune agent -dev

test-deps:
	@scripts/deps.sh

# The one test command: installs what is missing, then runs unit tests, simulators (SEEDS each),
# fuzz regressions over the seed corpora, man page lint and the integration scenarios.
check: test-deps
	@$(MAKE) -j$(JOBS) --no-print-directory $(BUILD)/tribune $(BUILD)/asan/tribune $(UNIT_BIN) $(SIM_ABIN) $(FUZZ_BIN) $(BENCH_BIN)
	@BUILD=$(BUILD) SEEDS=$(SEEDS) scripts/check.sh

unit: $(UNIT_BIN)
	@BUILD=$(BUILD) scripts/check.sh unit

sim: $(SIM_BIN)
	@BUILD=$(BUILD) SEEDS=$(SEEDS) SIMS='$(SIMS)' SIM_DIR=$(BUILD)/rel/tests scripts/check.sh sim

fuzz-build: $(FUZZ_BIN)

# Runs every fuzz target for FUZZ_TIME seconds each, starting from its committed corpus.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_TIME)s)"; \
	  $$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench: $(BENCH_BIN) $(BUILD)/tribune
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

man-lint:
	@BUILD=$(BUILD) scripts/check.sh man

static:
	@command -v musl-gcc >/dev/null || { echo "make static: musl-gcc missing; run scripts/deps.sh"; exit 1; }
	@mkdir -p $(BUILD)/static
	musl-gcc $(WARN) $(DEFS) -O2 -static $(LIB_SRC) $(MAIN_SRC) -o $(BUILD)/static/tribune
	strip $(BUILD)/static/tribune
	@echo "$(BUILD)/static/tribune: $$(stat -c %s $(BUILD)/static/tribune) bytes, static (musl)"

install: $(BUILD)/tribune
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 $(BUILD)/tribune $(DESTDIR)$(PREFIX)/bin/tribune
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in man/*.7; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done; true

clean:
	rm -rf build
