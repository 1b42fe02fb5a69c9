# certdeploy build. `make` builds the four programs into build/;
# `make SANITIZE=1` builds the same with ASan+UBSan into build/sanitize/;
# `make DEVELOPER=1` turns warnings into errors (tests and CI build so).
# `make run`, `make test`, `make check`, `make bench`, `make install`, `make fuzz`: see README.md.
# The targets that install packages first (run, test, bench, install) build
# in a second make, so that pkg-config is asked only once the -dev packages
# are there.

CC ?= cc
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build/sanitize
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1
else
BUILD ?= build
SAN_FLAGS :=
OPT := -O2
endif

PKGS := libmicrohttpd libpq jansson libcurl openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wvla -Wwrite-strings -Wformat=2
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
CFLAGS ?= $(OPT) -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -MMD -MP $(WARN) $(CFLAGS) $(SAN_FLAGS) \
              -Ilib -Iserver -I$(BUILD)/gen $(PKG_CFLAGS)
ALL_LDFLAGS := $(SAN_FLAGS) $(LDFLAGS)
LIBS := $(PKG_LIBS) -lpthread -lm

LIB_SRC := $(wildcard lib/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
MOCKCA_SRC := $(wildcard mockca/*.c)
AGENT_SRC := $(wildcard agent/*.c)
CTL_SRC := $(wildcard ctl/*.c)
SCHEMA_SQL := $(sort $(wildcard db/schema/*.sql))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
DB_TESTS := $(patsubst tests/db/%.c,$(BUILD)/tests/db/%,$(wildcard tests/db/test_*.c))
# integration: C tests that start real binaries (the mock CA) but need no database
INTEGRATION_TESTS := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(wildcard tests/integration/test_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_OBJ := $(call obj,$(LIB_SRC))
SERVER_OBJ := $(call obj,$(SERVER_SRC)) $(BUILD)/obj/gen/schema_embedded.o
MOCKCA_OBJ := $(call obj,$(MOCKCA_SRC))
AGENT_OBJ := $(call obj,$(AGENT_SRC))
CTL_OBJ := $(call obj,$(CTL_SRC))

BINS := $(BUILD)/certdeployd $(BUILD)/certdeploy-mockca $(BUILD)/certdeploy-agent \
        $(BUILD)/certdeployctl

.PHONY: all tests clean run test check deps format fuzz bench install check-libs
all: $(BINS)
tests: $(UNIT_TESTS) $(DB_TESTS) $(INTEGRATION_TESTS)

# A build without the libraries' -dev packages stops here with what to do,
# not at the first missing header.
check-libs:
	@pkg-config --exists $(PKGS) 2>/dev/null || { \
	  echo "certdeploy: missing development packages for: $$(for p in $(PKGS); do pkg-config --exists $$p 2>/dev/null || printf '%s ' $$p; done)" >&2; \
	  echo "certdeploy: run 'make deps' (or scripts/install-deps.sh run) to install them" >&2; exit 1; }

$(BUILD)/obj/%.o: %.c | check-libs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/schema_embedded.c: $(SCHEMA_SQL) scripts/embed-schema.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-schema.sh $(SCHEMA_SQL) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/schema_embedded.o: $(BUILD)/gen/schema_embedded.c | check-libs
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# lib/ is an archive, so each program takes only the modules it calls
# (the mock CA no api_client.o, say).
$(BUILD)/libcertdeploy.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libserver.a: $(SERVER_OBJ) $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/certdeployd: $(BUILD)/obj/server/main.o $(BUILD)/libserver.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/certdeploy-mockca: $(MOCKCA_OBJ) $(BUILD)/libcertdeploy.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/certdeploy-agent: $(AGENT_OBJ) $(BUILD)/libcertdeploy.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

$(BUILD)/certdeployctl: $(CTL_OBJ) $(BUILD)/libcertdeploy.a
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# test_wipebuf looks at each block as it is freed, to see it was wiped.
$(BUILD)/tests/unit/test_wipebuf: TEST_LDFLAGS := -Wl,--wrap=free

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(BUILD)/libserver.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(TEST_LDFLAGS) $^ $(LIBS) $(CMOCKA_LIBS) -o $@

# What building and running need (apt); test and bench add their own layers.
deps:
	@bash scripts/install-deps.sh run

run:
	@bash scripts/install-deps.sh run
	@$(MAKE) -s --no-print-directory all
	@bash scripts/run.sh

test:
	@bash scripts/install-deps.sh test
	@bash tests/run.sh

# clang-format, banned functions, gcc and clang builds, eslint: see scripts/check.sh.
check:
	@bash scripts/install-deps.sh test
	@bash scripts/check.sh

# libFuzzer harnesses (clang): FUZZ_SECONDS per target (default 60); see tests/fuzz/.
fuzz:
	@bash scripts/install-deps.sh test
	@bash tests/fuzz/run.sh

# Benchmarks against the machine's own limits; BENCH_QUICK=1 for a short run. See BENCHMARKS.md.
bench:
	@bash scripts/install-deps.sh bench
	@$(MAKE) -s --no-print-directory all
	@bash bench/run.sh

# Installs under $(DESTDIR)$(PREFIX); see scripts/install.sh for the layout.
PREFIX ?= /usr/local
install:
	@bash scripts/install-deps.sh run
	@$(MAKE) -s --no-print-directory all
	@BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) bash scripts/install.sh

format:
	clang-format -i lib/*.[ch] server/*.[ch] mockca/*.[ch] agent/*.[ch] ctl/*.[ch] tests/*/*.c

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
