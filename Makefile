# Makefile — builds tribune, its tests, simulators, fuzz targets, benchmarks and static binary.
# Sources are discovered, so adding a file under src/ or tests/ needs no edit here.

VERSION    := 0.1.0
CC         ?= cc
PREFIX     ?= /usr/local
SEEDS      ?= 1000
FUZZ_TIME  ?= 30

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

REL_OBJ    := $(LIB_SRC:src/%.c=build/rel/%.o)
ASAN_OBJ   := $(LIB_SRC:src/%.c=build/asan/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
SIM_BIN    := $(SIM_SRC:tests/sim/%.c=build/rel/tests/%)
SIM_ABIN   := $(SIM_SRC:tests/sim/%.c=build/asan/tests/%)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=build/rel/bench/%)

.PHONY: all run check test-deps unit sim fuzz fuzz-build static install bench man-lint clean
all: build/tribune

# Header dependencies are coarse on purpose: any header change rebuilds everything, which is
# cheap at this size and never leaves a stale object behind.
build/rel/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c $< -o $@

build/asan/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

build/rel/libtribune.a: $(REL_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/asan/libtribune.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/tribune: $(MAIN_SRC) build/rel/libtribune.a
	$(CC) $(REL_CFLAGS) $< build/rel/libtribune.a -o $@

build/asan/tribune: $(MAIN_SRC) build/asan/libtribune.a
	$(CC) $(ASAN_CFLAGS) $< build/asan/libtribune.a -o $@

build/asan/tests/%: tests/unit/%.c build/asan/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests $< build/asan/libtribune.a -lcmocka -o $@

build/rel/tests/%: tests/sim/%.c $(SIMLIB_SRC) build/rel/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -Itests $< $(SIMLIB_SRC) build/rel/libtribune.a -lm -o $@

build/asan/tests/sim_%: tests/sim/sim_%.c $(SIMLIB_SRC) build/asan/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -Itests $< $(SIMLIB_SRC) build/asan/libtribune.a -lm -o $@

build/rel/bench/%: bench/%.c build/rel/libtribune.a
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $< build/rel/libtribune.a -lm -o $@

# Fuzz targets link the library sources directly, compiled by clang with libFuzzer.
FUZZ_CC    := clang
FUZZ_FLAGS := $(WARN) $(DEFS) -O1 -g -fsanitize=fuzzer,address,undefined
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $< $(LIB_SRC) -o $@

run: build/tribune
	./build/tribune agent -dev

test-deps:
	@scripts/deps.sh

# The one test command: installs what is missing, then runs unit tests, simulators (SEEDS each),
# fuzz regressions over the seed corpora, man page lint and the integration scenarios.
check: test-deps
	@$(MAKE) --no-print-directory build/tribune build/asan/tribune $(UNIT_BIN) $(SIM_ABIN) $(FUZZ_BIN) $(BENCH_BIN)
	@SEEDS=$(SEEDS) scripts/check.sh

unit: $(UNIT_BIN)
	@scripts/check.sh unit

sim: $(SIM_BIN)
	@SEEDS=$(SEEDS) SIM_DIR=build/rel/tests scripts/check.sh sim

fuzz-build: $(FUZZ_BIN)

# Runs every fuzz target for FUZZ_TIME seconds each, starting from its committed corpus.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_TIME)s)"; \
	  $$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench: $(BENCH_BIN) build/tribune
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

man-lint:
	@scripts/check.sh man

static:
	@command -v musl-gcc >/dev/null || { echo "make static: musl-gcc missing; run scripts/deps.sh"; exit 1; }
	@mkdir -p build/static
	musl-gcc $(WARN) $(DEFS) -O2 -static $(LIB_SRC) $(MAIN_SRC) -o build/static/tribune
	strip build/static/tribune
	@echo "build/static/tribune: $$(stat -c %s build/static/tribune) bytes, static (musl)"

install: build/tribune
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 build/tribune $(DESTDIR)$(PREFIX)/bin/tribune
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in man/*.7; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done; true

clean:
	rm -rf build
