# tend: plain GNU make + pkg-config.
#   make                 build ./tend (release)
#   make test            build and run every test (unit, integration)
#   make MODE=asan test  the same under AddressSanitizer + UBSan
#   make demo            build and run the demo
#   make format          reformat the C sources; make format-check checks them
#   make bench           run the benchmarks (writes docs/benchmarks.md data)
MODE ?= release
BUILD := build/$(MODE)
# The release; `tend --version` adds what git describe says of the tree it
# was built from, when there is one.
VERSION := 0.1.0
GIT_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null)
VERSION_STRING := $(VERSION)$(if $(GIT_DESCRIBE), ($(GIT_DESCRIBE)))
PKGS := sqlite3 libcjson libmicrohttpd libxxhash glib-2.0 yaml-0.1 lua5.4 libcurl libsodium libpq libcrypto

CC ?= cc
WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
        -Wformat=2 -Wvla -Wno-unused-parameter -Wno-format-truncation
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -g -Isrc $(WARN)
ifeq ($(MODE),asan)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(MODE),release)
OPT := -O2
else
$(error MODE must be release or asan)
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS)) -lcsv -lpthread -lm
# The release binary allocates with jemalloc, as Redis does: ingest builds and
# frees millions of small JSON nodes, and glibc malloc measured 1.6x slower on
# it (docs/benchmarks.md). ASan brings its own allocator.
ifeq ($(MODE),release)
TEND_LIBS = $(PKG_LIBS) $(shell pkg-config --libs jemalloc)
else
TEND_LIBS = $(PKG_LIBS)
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(OPT) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(OPT) $(LDFLAGS)

LIB_SRC := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEND := $(BUILD)/tend

.PHONY: all deps test test-build unit integration demo bench fuzz fuzz-build format format-check clean FORCE
all: deps $(TEND)
ifeq ($(MODE),release)
	@ln -sf $(TEND) tend
endif

deps:
	@scripts/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	@$(CC) $(ALL_CFLAGS) $(VERSION_CFLAGS) -MMD -MP -c $< -o $@

# main.o alone carries the version; it is rebuilt when the string changes
# (a commit, a dirty tree), which $(BUILD)/version records.
$(BUILD)/version: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION_STRING)' | cmp -s - $@ || echo '$(VERSION_STRING)' >$@
$(BUILD)/src/cli/main.o: $(BUILD)/version
$(BUILD)/src/cli/main.o: VERSION_CFLAGS = -DTEND_VERSION='"$(VERSION_STRING)"'

$(BUILD)/libtend.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(TEND): $(BUILD)/src/cli/main.o $(BUILD)/libtend.a
	@echo "  LINK  $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEND_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtend.a
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	@$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< $(BUILD)/libtend.a \
	    $(PKG_LIBS) $(shell pkg-config --libs cmocka)

# test-build: what make test runs, built (.ci/run builds the asan run's
# beside the release run's tests). tests/run runs the tests TEST_JOBS at a
# time (docs/development.md, "Build and test").
test-build: all $(UNIT_BIN)

test: test-build
	@TEND=$(CURDIR)/$(TEND) BUILD=$(CURDIR)/$(BUILD) MODE=$(MODE) tests/run

demo: all
	@scripts/demo

bench: all
	@scripts/install-deps bench
	@TEND=$(CURDIR)/$(TEND) bench/run

# ---- fuzzing (tests/fuzz/, docs/development.md "Fuzzing") -------------------
# One libFuzzer harness per parser: tests/fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME.
# They link the project's own objects, compiled again with clang under
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/obj (main.c with
# its main renamed tend_cli_main, so a harness can run a subcommand).
#   make fuzz                       every harness, FUZZ_SECONDS each
#   make fuzz FUZZ=http FUZZ_SECONDS=300
#   make fuzz-build                 build them only
FUZZ_SECONDS ?= 60
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ ?= $(FUZZ_ALL)
FUZZ_DIR := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# gcc's -Werror builds check the project's warnings; clang's own
# (-Wformat-nonliteral on vsnprintf wrappers) are not errors here.
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -Isrc \
              $(filter-out -Werror -Wno-format-truncation,$(WARN)) -Wno-format-nonliteral -Wno-shadow \
              $(FUZZ_SAN) $(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/src/cli/main.o
FUZZ_BIN := $(FUZZ_ALL:%=$(FUZZ_DIR)/fuzz_%)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/obj/src/cli/main.o: src/cli/main.c
	@mkdir -p $(dir $@)
	@echo "  CC    $@"
	@clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Dmain=tend_cli_main -Wno-missing-prototypes \
	    -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libtend.a: $(FUZZ_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.c tests/fuzz/fuzz.h $(FUZZ_DIR)/libtend.a
	@echo "  FUZZ  $@"
	@clang $(FUZZ_CFLAGS) -Werror -Itests/fuzz -fsanitize=fuzzer -o $@ $< tests/fuzz/fuzz.c \
	    $(FUZZ_DIR)/libtend.a $(PKG_LIBS) $(shell pkg-config --libs libsodium)

fuzz-build: deps $(FUZZ_BIN)

fuzz: fuzz-build
	@for f in $(FUZZ); do tests/fuzz/run "$$f" $(FUZZ_SECONDS) || exit 1; done

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h)

format-check:
	clang-format --dry-run --Werror $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h \
	    tests/fuzz/*.c tests/fuzz/*.h)

clean:
	rm -rf build tend

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d $(wildcard $(FUZZ_DIR)/obj/src/*/*.d)
