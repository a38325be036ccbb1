# mcpg - one non-recursive makefile.  Objects go under build/.
#
#   make                  build/mcpgc and build/mcpg
#   make run              serve the dev-single-node template on 127.0.0.1:8787
#   make check            every test, check-generated and man lint
#   make regen            rewrite generated/ from schema/
#   make check-generated  fail when generated/ is stale
#   make fuzz             libFuzzer targets (clang-14)
#   make install          PREFIX=/usr/local DESTDIR=
#   make deps             install the Debian packages that are missing
#
#   V=1                   show commands
#   DEVELOPER=1           -Werror (CI sets it)
#   SANITIZE=address,undefined   build and test with sanitizers

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

B := build
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/mcpg
UNITDIR = $(PREFIX)/lib/systemd/system

CC ?= cc
ifeq ($(CC),cc)
CC := gcc
endif
RE2C ?= re2c
LEMON ?= lemon
LEMPAR ?= /usr/share/lemon/lempar.c
PKG_CONFIG ?= pkg-config

VERSION := 0.1.0

CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -Wall -Wextra \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-unused-parameter -fno-strict-aliasing -MMD -MP \
	-DMCPG_VERSION='"$(VERSION)"' -Iruntime -Icompiler -Igenerated -I$(B)/compiler
ifeq ($(DEVELOPER),1)
BASE_CFLAGS += -Werror
endif
ifneq ($(SANITIZE),)
BASE_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

MCC_PKGS := libfyaml jansson libcrypto
MCPG_PKGS := jansson libcrypto libssl libmicrohttpd libcurl hiredis libnats
# NATS=0: no libnats (it has no static archive); cluster.kind nats is refused at boot.
ifeq ($(NATS),0)
MCPG_PKGS := $(filter-out libnats,$(MCPG_PKGS))
BASE_CFLAGS += -DMCPG_WITHOUT_NATS
endif
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(MCC_PKGS) $(MCPG_PKGS) 2>/dev/null)
MCC_LIBS := $(shell $(PKG_CONFIG) --libs $(MCC_PKGS) 2>/dev/null)
MCPG_LIBS := $(shell $(PKG_CONFIG) --libs $(MCPG_PKGS) 2>/dev/null) -lpthread

ALL_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)

ifeq ($(V),1)
QUIET_CC =
QUIET_LINK =
QUIET_GEN =
QUIET_AR =
else
QUIET_CC = @echo '   CC      ' $@;
QUIET_LINK = @echo '   LINK    ' $@;
QUIET_GEN = @echo '   GEN     ' $@;
QUIET_AR = @echo '   AR      ' $@;
endif

# Rebuild everything when the flags change (git's GIT-CFLAGS).
$(B)/CFLAGS: FORCE
	@mkdir -p $(B)
	@echo '$(ALL_CFLAGS) $(LDFLAGS) $(CC)' > $@.new; \
	if cmp -s $@.new $@; then rm -f $@.new; else mv $@.new $@; fi

# ---------------------------------------------------------------------------
# Sources

# The schema front end and the emitters: everything `make regen` needs.  It
# does not depend on generated/, so it can bootstrap it.
GEN_SRCS := compiler/diag.c compiler/arena.c compiler/sema.c compiler/dsl.c \
	compiler/emit_c.c compiler/emit_json.c compiler/emit_man.c \
	compiler/emit_lockstep.c compiler/gen.c
GEN_GENERATED := $(B)/compiler/lex.c $(B)/compiler/parse.c

# Runtime pieces that mcpgc links too (the verifier: write, then verify).
SHARED_SRCS := runtime/image.c runtime/format.c runtime/expr.c runtime/strbuf.c

MCC_SRCS := $(filter-out compiler/gen_main.c compiler/main.c $(GEN_SRCS),\
	$(wildcard compiler/*.c))
MCPG_SRCS := $(filter-out runtime/main.c $(SHARED_SRCS),$(wildcard runtime/*.c))

obj = $(patsubst %.c,$(B)/%.o,$(patsubst $(B)/%,%,$(1)))

GEN_OBJS := $(call obj,$(GEN_SRCS) $(GEN_GENERATED))
SHARED_OBJS := $(call obj,$(SHARED_SRCS) generated/mcpg_schema.c)
MCC_OBJS := $(call obj,$(MCC_SRCS)) $(B)/compiler/embed.o
MCPG_OBJS := $(call obj,$(MCPG_SRCS))

LIBMCC := $(B)/libmcc.a
LIBMCPG := $(B)/libmcpg.a

PROGRAMS := $(B)/mcpgc $(B)/mcpg

all: $(PROGRAMS)

# ---------------------------------------------------------------------------
# Compilation

$(B)/%.o: %.c $(B)/CFLAGS
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# re2c and lemon output are build artifacts (SQLite's parse.c).
$(B)/compiler/parse.c $(B)/compiler/parse.h &: compiler/parse.y
	@mkdir -p $(B)/compiler
	$(QUIET_GEN)cp compiler/parse.y $(B)/compiler/parse.y && \
		$(LEMON) -q -T$(LEMPAR) -d$(B)/compiler $(B)/compiler/parse.y && \
		touch $(B)/compiler/parse.c $(B)/compiler/parse.h

$(B)/compiler/lex.c: compiler/lex.re $(B)/compiler/parse.h
	@mkdir -p $(B)/compiler
	$(QUIET_GEN)$(RE2C) -W --location-format gnu --no-generation-date --no-version \
		-o $@ $<

# Generated parser code: keep our warnings but not the template's quirks.
$(B)/compiler/parse.o: $(B)/compiler/parse.c $(B)/CFLAGS
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -Wno-unused-variable -Wno-unused-parameter \
		-Wno-missing-prototypes -Wno-shadow -Wno-strict-prototypes -c -o $@ $<

$(B)/compiler/lex.o: $(B)/compiler/lex.c $(B)/CFLAGS
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/compiler/dsl.o $(B)/compiler/sema.o: $(B)/compiler/parse.h

# Templates, the schema and the JSON Schema are compiled into mcpgc.
TEMPLATES := $(sort $(wildcard templates/*.yaml))
$(B)/compiler/embed.c: scripts/embed schema/mcpg.schema generated/mcpg-config.schema.json $(TEMPLATES)
	@mkdir -p $(B)/compiler
	$(QUIET_GEN)sh scripts/embed schema/mcpg.schema generated/mcpg-config.schema.json \
		$(TEMPLATES) > $@

$(B)/compiler/embed.o: $(B)/compiler/embed.c $(B)/CFLAGS
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBMCC): $(GEN_OBJS) $(MCC_OBJS) $(SHARED_OBJS)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(LIBMCPG): $(MCPG_OBJS) $(SHARED_OBJS)
	$(QUIET_AR)rm -f $@ && ar rcs $@ $^

$(B)/mcpgc-gen: $(B)/compiler/gen_main.o $(GEN_OBJS)
	$(QUIET_LINK)$(CC) $(LDFLAGS) -o $@ $^ -lcrypto

$(B)/mcpgc: $(B)/compiler/main.o $(LIBMCC)
	$(QUIET_LINK)$(CC) $(LDFLAGS) -o $@ $^ $(MCC_LIBS)

$(B)/mcpg: $(B)/runtime/main.o $(LIBMCPG)
	$(QUIET_LINK)$(CC) $(LDFLAGS) -o $@ $^ $(MCPG_LIBS)

# ---------------------------------------------------------------------------
# generated/: committed, never edited by hand.

regen: $(B)/mcpgc-gen
	$(B)/mcpgc-gen -o generated schema/mcpg.schema

check-generated: $(B)/mcpgc-gen
	@rm -rf $(B)/regen && mkdir -p $(B)/regen
	@$(B)/mcpgc-gen -o $(B)/regen schema/mcpg.schema
	@if ! diff -ru generated $(B)/regen; then \
		echo "generated/ is stale: run 'make regen' and commit the result" >&2; \
		exit 1; \
	fi

# ---------------------------------------------------------------------------
# Tests

UNIT_SRCS := $(wildcard tests/unit/u-*.c)
UNIT_PROGS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

$(B)/tests/%: $(B)/tests/unit/%.o $(LIBMCC) $(LIBMCPG)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(LDFLAGS) -o $@ $^ $(MCC_LIBS) $(MCPG_LIBS)

tests: $(PROGRAMS) $(B)/mcpgc-gen $(UNIT_PROGS) container-rootfs

# The test driver runs last: its "N passed, N failed" line closes the output.
check: deps tests
	@$(MAKE) --no-print-directory check-generated
	@$(MAKE) --no-print-directory man-lint
	@B=$(B) tests/run

MAN_PAGES := $(wildcard man/*.[0-9]) generated/mcpg-config.5
man-lint:
	@mandoc -Tlint -W warning $(MAN_PAGES) && echo "man lint: ok ($(words $(MAN_PAGES)) pages)"


# ---------------------------------------------------------------------------
# Fuzzing (clang-14 with libFuzzer; see tests/fuzz/)

FUZZ_CC ?= clang-14
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
	-Iruntime -Icompiler -Igenerated -I$(B)/compiler $(PKG_CFLAGS)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SRCS = $(GEN_SRCS) $(GEN_GENERATED) $(MCC_SRCS) $(B)/compiler/embed.c \
	$(filter-out runtime/main.c,$(wildcard runtime/*.c)) generated/mcpg_schema.c

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_SRCS) $(B)/compiler/parse.h
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) $(MCC_LIBS) $(MCPG_LIBS)

fuzz: $(FUZZ_TARGETS)
	@echo "fuzz targets: $(FUZZ_TARGETS)"
	@echo "run one with: tests/fuzz/run TARGET SECONDS"

# ---------------------------------------------------------------------------
# Running, installing, dependencies

deps:
	@scripts/deps

run: deps all
	@scripts/run-dev

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/templates \
		$(DESTDIR)$(UNITDIR)
	install -m 755 $(B)/mcpgc $(DESTDIR)$(BINDIR)/mcpgc
	ln -sf mcpgc $(DESTDIR)$(BINDIR)/mcpg-config-check
	ln -sf mcpgc $(DESTDIR)$(BINDIR)/mcpg-config-init
	install -m 755 $(B)/mcpg $(DESTDIR)$(SBINDIR)/mcpg
	install -m 644 generated/mcpg-config.5 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5/
	for f in $(wildcard man/*.1); do install -m 644 $$f $(DESTDIR)$(MANDIR)/man1/; done
	for f in $(wildcard man/*.8); do install -m 644 $$f $(DESTDIR)$(MANDIR)/man8/; done
	install -m 644 templates/*.yaml templates/README.md generated/mcpg-config.schema.json \
		$(DESTDIR)$(DATADIR)/templates/
	sed -e 's|/usr/sbin/mcpg|$(SBINDIR)/mcpg|g' -e 's|/usr/bin/mcpgc|$(BINDIR)/mcpgc|g' \
		deploy/mcpg.service > $(DESTDIR)$(UNITDIR)/mcpg.service
	chmod 644 $(DESTDIR)$(UNITDIR)/mcpg.service

clean:
	rm -rf $(B)

.PHONY: all check tests regen check-generated man-lint fuzz deps run install clean FORCE

# ---------------------------------------------------------------------------
# Static runtime and the container root file system (issue 8)
#
#   make static            build/static/mcpg: fully static glibc, no NSS
#   make container-rootfs  build/rootfs/: what deploy/Dockerfile's scratch
#                          stage holds
#
# libmicrohttpd (without HTTPS) and curl (http, https via OpenSSL) come from
# Debian's source packages, built once into build/third by
# scripts/build-third; the rest links Debian's own .a files.  The static
# objects are a separate build tree (B=build/static, STATIC=1), so the
# dynamic build is untouched.  Left out: listener TLS (mcpg refuses it at
# boot), NATS (no static libnats), see README.
#
# The link warns that getaddrinfo, gethostbyname and dlopen need glibc's
# shared libraries at run time.  getaddrinfo is wrapped (runtime/resolve.c
# resolves without NSS; the warning is about the real one behind it);
# OpenSSL's gethostbyname (BIO_gethostbyname) is never called, and its
# dlopen only when an openssl.cnf loads an engine or provider module.

# One build of the third-party archives serves every build tree (B=...).
THIRD ?= build/third
ROOTFS ?= $(B)/rootfs
ROOTFS_UID ?= 65532
ROOTFS_CONFIG ?= deploy/container.yaml

ifeq ($(STATIC),1)
STATIC_PKGS := $(filter-out libnats libjwt,$(MCPG_PKGS))
STATIC_PC := PKG_CONFIG_PATH=$(THIRD)/inst/lib/pkgconfig $(PKG_CONFIG)
PKG_CFLAGS := $(shell $(STATIC_PC) --cflags $(STATIC_PKGS))
MCPG_LIBS := $(shell $(STATIC_PC) --static --libs $(STATIC_PKGS)) -lpthread
BASE_CFLAGS += -DMCPG_STATIC_RESOLVER -DMCPG_WITHOUT_NATS
LDFLAGS += -static -Wl,--wrap=getaddrinfo
endif

static:
	@scripts/build-third $(THIRD)
	@$(MAKE) --no-print-directory B=$(B)/static STATIC=1 THIRD=$(abspath $(THIRD)) \
		SANITIZE= $(B)/static/mcpg

container-rootfs: static $(B)/mcpgc
	@scripts/container-rootfs $(B)/static/mcpg $(B)/mcpgc $(ROOTFS_CONFIG) \
		$(ROOTFS) $(ROOTFS_UID)

.PHONY: static container-rootfs

-include $(shell find $(B) -path $(B)/third -prune -o -name '*.d' -print 2>/dev/null)
