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
PKGS := sqlite3 libcjson libmicrohttpd libxxhash glib-2.0 yaml-0.1 lua5.4 libcurl libsodium

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

.PHONY: all deps test unit integration demo bench fuzz format format-check clean FORCE
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

test: all $(UNIT_BIN)
	@TEND=$(CURDIR)/$(TEND) BUILD=$(CURDIR)/$(BUILD) MODE=$(MODE) tests/run

demo: all
	@scripts/demo

bench: all
	@scripts/install-deps bench
	@TEND=$(CURDIR)/$(TEND) bench/run

# libFuzzer harnesses (clang): build/fuzz/fuzz_*; `make fuzz` runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_SRC := src/ingest/segment.c src/ingest/text.c src/util/datetime.c src/util/mem.c \
            src/core/vocab.c
build/fuzz/fuzz_segment: tests/fuzz/fuzz_segment.c $(FUZZ_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ  $@"
	@clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
	    $(shell pkg-config --cflags libcjson glib-2.0) $^ \
	    $(shell pkg-config --libs libcjson libxxhash glib-2.0) -o $@

fuzz: deps build/fuzz/fuzz_segment
	@mkdir -p build/fuzz/corpus && cp -n tests/fuzz/corpus/* build/fuzz/corpus/
	build/fuzz/fuzz_segment -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build/fuzz/corpus

format:
	clang-format -i $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h)

format-check:
	clang-format --dry-run --Werror $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h)

clean:
	rm -rf build tend

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/cli/main.d
