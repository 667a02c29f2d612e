# ocicr build.  Quiet by default; `make V=1` shows the commands.
#
#   make            build/ocicr, build/libocicr.so, build/libocicr.a, build/ocicr.pc
#   make deps       install every Debian package the build, tests and demo need
#   make check      layout rules, unit tests (cmocka) + integration tests (bats), one summary
#   make demo       checkpoint a runc container into an archive and restore it
#   make fuzz       build and run a fuzzer (FUZZ_TARGET=fuzz_image|fuzz_archive, FUZZ_SECONDS=60)
#   make fuzz-regress  run the fuzzers over their seeds and past findings
#   make install    PREFIX=/usr/local DESTDIR=

VERSION    := 0.1.0
SOVERSION  := 0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
# Where `make install` puts the `criu` link to ocicr (CRIU's command line):
# out of $PATH by default, so it shadows no real CRIU; put this directory
# first in $PATH, or install with CRIUDIR=$(BINDIR), to have ocicr as criu.
CRIUDIR    ?= $(LIBDIR)/ocicr
DESTDIR    ?=

CC         ?= cc
PROTOC_C   ?= protoc-c
B          := build

PKGS       := libprotobuf-c yajl libcap libseccomp mount libarchive libzstd libnftables
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN       := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
              -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
CFLAGS     ?= -O2 -g
# -fms-extensions: a struct embedded without a name (restore's task embeds
# the loaded one, engine/res/restore.h).
CFLAGS     += -std=gnu11 -fms-extensions -D_GNU_SOURCE -DOCICR_VERSION='"$(VERSION)"' $(WARN) \
              -fvisibility=hidden -fPIC -Iengine/include -Iengine -I$(B)/proto -I. $(PKG_CFLAGS)
LDLIBS     += $(PKG_LIBS) -lpthread
# Symbols bound at start, once: restore forks a child per task, and with
# lazy binding each child looked up (and copied the GOT page of) every
# library function it called first, across some 30 libraries.
BIN_LDFLAGS := -Wl,-z,now

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

PROTOS     := $(sort $(wildcard proto/*.proto))
PB_C       := $(PROTOS:proto/%.proto=$(B)/proto/%.pb-c.c)
PB_H       := $(PB_C:.c=.h)

ENGINE_SRC := $(sort $(wildcard engine/*/*.c engine/res/*/*.c arch/x86_64/*.c))
# CRIU's options (table, parser, mapping onto the engine): a small library
# the CLI, the RPC service and the unit tests link.
CRIUOPT_SRC := oci/criu/opts.c oci/criu/parse.c
# The OCI layer (bundles, runtime state, archives, root filesystem
# changes): a small library the CLI and the unit tests link.
BUNDLE_SRC := $(sort $(wildcard bundle/*.c))
OCI_SRC    := $(filter-out $(CRIUOPT_SRC),$(sort $(wildcard oci/*.c oci/criu/*.c hooks/*.c)))
# Checkpoint inspection (archives, config.dump, reports): a small library
# the CLI and the unit tests link.
INSPECT_SRC := $(sort $(wildcard oci/inspect/*.c))

LIB_OBJ    := $(ENGINE_SRC:%.c=$(B)/%.o) $(PB_C:%.c=%.o) $(B)/proto/pb-registry.o \
              $(B)/arch/x86_64/restorer/blob.o $(B)/arch/x86_64/jump.o
# CRIU's RPC protocol is the CLI's own business (oci/criu/rpc_*.c): it
# compiles its copy of rpc.proto's code; the library keeps its copy hidden.
OCI_OBJ    := $(OCI_SRC:%.c=$(B)/%.o) $(B)/oci/criu/rpc.pb-c.o
INSPECT_OBJ := $(INSPECT_SRC:%.c=$(B)/%.o)
CRIUOPT_OBJ := $(CRIUOPT_SRC:%.c=$(B)/%.o)
BUNDLE_OBJ := $(BUNDLE_SRC:%.c=$(B)/%.o)

UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
WORKLOAD_SRC := $(sort $(wildcard tests/workloads/*.c))
WORKLOAD_BIN := $(WORKLOAD_SRC:tests/workloads/%.c=$(B)/workloads/%)

.PHONY: FORCE all deps check check-layout unit integration demo zdtm bench fuzz fuzz-regress install uninstall clean format format-check
.SECONDARY:

all: $(B)/ocicr $(B)/libocicr.so $(B)/libocicr.a $(B)/ocicr.pc

$(B)/proto/%.pb-c.c $(B)/proto/%.pb-c.h: proto/%.proto
	$(call msg,PROTOC,$<)
	@mkdir -p $(B)/proto
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(B)/proto $<

$(B)/proto/pb-registry.c: $(PB_H) scripts/gen-pb-registry.sh
	$(call msg,GEN,$@)
	$(Q)scripts/gen-pb-registry.sh $@ $(PB_H)

$(B)/oci/criu/rpc.pb-c.o: $(B)/oci/criu/proto/rpc.pb-c.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(filter-out $(WARN),$(CFLAGS)) -w -c -o $@ $<

# Generated protobuf code is not ours to lint.
$(B)/proto/%.o: $(B)/proto/%.c
	$(call msg,CC,$<)
	$(Q)$(CC) $(filter-out $(WARN),$(CFLAGS)) -w -c -o $@ $<

$(B)/%.o: %.c | $(PB_H)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# oci/, bundle/ and hooks/ are compiled against the public headers alone
# (engine/include: ocicr.h, ocicr/cleanup.h): no -Iengine, none of the
# engine's generated protobuf code.  CRIU's RPC protocol is the CLI's own
# (oci/criu/rpc_*.c): protoc-c writes the CLI's copy of its code in a
# folder of its own, the only generated code oci/ sees.
CLI_PROTO    := $(B)/oci/criu/proto
FRONT_HDR    := $(CLI_PROTO)/rpc.pb-c.h
FRONT_CFLAGS := $(filter-out -Iengine -I$(B)/proto,$(CFLAGS)) -I$(CLI_PROTO)
$(CLI_PROTO)/rpc.pb-c.c $(CLI_PROTO)/rpc.pb-c.h: proto/rpc.proto
	$(call msg,PROTOC,$<)
	@mkdir -p $(CLI_PROTO)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(CLI_PROTO) $<
define front_rule
$(B)/$(1)/%.o: $(1)/%.c | $(FRONT_HDR)
	$$(call msg,CC,$$<)
	@mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(FRONT_CFLAGS) -MMD -MP -c -o $$@ $$<
endef
$(foreach d,oci bundle hooks,$(eval $(call front_rule,$(d))))

# The restorer blob: freestanding, position independent, no relocations
# (a relocation would mean an absolute address the blob cannot have).
RESTORER_CFLAGS := -O2 -g0 -std=gnu11 -I. -ffreestanding -fno-builtin -nostdlib -fPIE \
                   -fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
                   -fvisibility=hidden -mgeneral-regs-only -Wall -Wextra -Wno-unused-parameter
$(B)/arch/x86_64/restorer/restorer.elf: arch/x86_64/restorer/restorer.c arch/x86_64/restorer/restorer.h \
		arch/x86_64/restorer/syscall.h arch/x86_64/restorer/restorer.lds
	$(call msg,BLOB,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(RESTORER_CFLAGS) -static-pie -Wl,-T,arch/x86_64/restorer/restorer.lds \
		-Wl,--no-dynamic-linker -Wl,-z,norelro -Wl,--no-warn-rwx-segments -Wl,--build-id=none -o $@ $<
	$(Q)if readelf -rW $@ | grep -q R_X86_64; then \
		echo "restorer blob has relocations:"; readelf -rW $@; exit 1; fi

$(B)/arch/x86_64/restorer/restorer.bin: $(B)/arch/x86_64/restorer/restorer.elf
	$(Q)objcopy -O binary -j .text -j .rodata -j .data -j .bss --set-section-flags .bss=alloc,load,contents $< $@

$(B)/arch/x86_64/restorer/blob.o: arch/x86_64/restorer/blob.S $(B)/arch/x86_64/restorer/restorer.bin
	$(call msg,AS,$<)
	$(Q)$(CC) -c -DRESTORER_BIN='"$(B)/arch/x86_64/restorer/restorer.bin"' -o $@ $<

$(B)/arch/x86_64/jump.o: arch/x86_64/jump.S
	$(call msg,AS,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -c -o $@ $<

# The public API is what ocicr.h declares OC_API; the shared library
# exports it alone (version script), and the static library is one object
# whose other globals are made local.  Unit tests link the testing archive,
# which has every object as it is.
$(B)/libocicr.syms: engine/include/ocicr.h
	@mkdir -p $(dir $@)
	$(Q)sed -n 's/^OC_API .*[ *]\(oc_[a-z0-9_]*\)(.*/\1/p' $< >$@
$(B)/libocicr.map: $(B)/libocicr.syms
	$(Q){ echo 'OCICR_$(SOVERSION) {'; echo 'global:'; sed 's/.*/\t&;/' $<; \
	     echo 'local:'; echo '\t*;'; echo '};'; } >$@

$(B)/libocicr.so: $(LIB_OBJ) $(B)/libocicr.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-soname,libocicr.so.$(SOVERSION) -Wl,--version-script=$(B)/libocicr.map \
		-Wl,--no-undefined -o $@ $(LIB_OBJ) $(LDLIBS)
	$(Q)ln -sf libocicr.so $(B)/libocicr.so.$(SOVERSION)

$(B)/libocicr.a: $(LIB_OBJ) $(B)/libocicr.syms
	$(call msg,AR,$@)
	$(Q)ld -r -o $(B)/libocicr-all.o $(LIB_OBJ)
	$(Q)objcopy --keep-global-symbols=$(B)/libocicr.syms $(B)/libocicr-all.o $(B)/libocicr.o
	$(Q)rm -f $@ && ar rcs $@ $(B)/libocicr.o

$(B)/libocicr-testing.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Written on every run: PREFIX and LIBDIR may differ at install time.
$(B)/ocicr.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q){ echo 'prefix=$(PREFIX)'; echo 'libdir=$(LIBDIR)'; echo 'includedir=$(INCLUDEDIR)'; echo; \
	     echo 'Name: ocicr'; echo 'Description: checkpoint/restore of Linux process trees'; \
	     echo 'Version: $(VERSION)'; echo 'Requires.private: $(PKGS)'; \
	     echo 'Cflags: -I$${includedir}'; echo 'Libs: -L$${libdir} -locicr'; \
	     echo 'Libs.private: -lpthread'; } >$@

$(B)/liboci-inspect.a: $(INSPECT_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libcriu-opts.a: $(CRIUOPT_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libbundle.a: $(BUNDLE_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/ocicr: $(OCI_OBJ) $(B)/libbundle.a $(B)/libcriu-opts.a $(B)/liboci-inspect.a $(B)/libocicr.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(BIN_LDFLAGS) -o $@ $(OCI_OBJ) $(B)/libbundle.a $(B)/libcriu-opts.a $(B)/liboci-inspect.a \
		$(B)/libocicr.a $(LDLIBS)
	$(Q)ln -sf ocicr $(B)/criu

# Unit tests link the testing archive, so hidden symbols are reachable.
$(B)/tests/%: tests/unit/%.c $(B)/libbundle.a $(B)/libcriu-opts.a $(B)/liboci-inspect.a $(B)/libocicr-testing.a
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(UNIT_EXTRA_OBJ) $(B)/libbundle.a $(B)/libcriu-opts.a $(B)/liboci-inspect.a \
		$(B)/libocicr-testing.a $(LDLIBS) -lcmocka

# The RPC wire is CLI code, not the library's: its test links the object.
$(B)/tests/test_rpc_wire: UNIT_EXTRA_OBJ := $(B)/oci/criu/rpc_wire.o
$(B)/tests/test_rpc_wire: $(B)/oci/criu/rpc_wire.o

# Self-checking workloads for the integration tests: static, like the
# shared fixtures, so they do not depend on the libraries of the host.
$(B)/workloads/%: tests/workloads/%.c $(wildcard tests/workloads/*.h)
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -static -pthread -o $@ $< -lrt

# The fdsock_* workloads (sockets, FIFOs, locks) share their own header.
$(B)/workloads/fdsock_%: tests/workloads/fdsock_%.c tests/workloads/fdsock_wl.h
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wno-format-truncation -static -pthread -o $@ $< -lrt

deps:
	@scripts/install-deps.sh

unit: $(UNIT_BIN)
	@tests/run-tests.sh unit $(UNIT_BIN)

integration: all $(WORKLOAD_BIN)
	@tests/run-tests.sh integration tests/integration/*.bats

FORCE:

check-layout: $(B)/libocicr.so $(B)/libocicr.syms
	@mkdir -p $(B)/tests
	@scripts/check-layout.sh
	@nm -D --defined-only $(B)/libocicr.so | awk '$$2 != "A" {sub(/@.*/, "", $$3); print $$3}' | sort >$(B)/libocicr.exported
	@if ! sort $(B)/libocicr.syms | cmp -s - $(B)/libocicr.exported; then \
		echo "libocicr.so exports other than its OC_API symbols:"; \
		sort $(B)/libocicr.syms | diff - $(B)/libocicr.exported; exit 1; fi
	@$(CC) -std=gnu11 -Wall -Werror -Iengine/include -o $(B)/tests/public_api tests/api/public_api.c -L$(B) -locicr
	@LD_LIBRARY_PATH=$(B) $(B)/tests/public_api $(VERSION)

check: all check-layout $(UNIT_BIN) $(WORKLOAD_BIN)
	@tests/run-tests.sh all $(UNIT_BIN) -- tests/integration/*.bats

demo: all $(WORKLOAD_BIN)
	@scripts/demo.sh

# CRIU's test suite against build/criu; needs ZDTM_DIR, a CRIU source tree
# with its tests built (docs/zdtm.md). ZDTM_ARGS: tests and run.sh options.
zdtm: all
	@tests/zdtm/run.sh $(ZDTM_ARGS)

# Benchmarks: ocicr against a reference CRIU when CRIU=/path/to/criu is set.
BENCH_ARGS ?=
$(B)/bench/heartbeat: bench/heartbeat.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -o $@ $<
$(B)/bench/ocbench: bench/ocbench.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -pthread -o $@ $<
bench: all $(B)/bench/heartbeat $(B)/bench/ocbench
	$(B)/bench/ocbench $(BENCH_ARGS)

# libFuzzer build of the image parser, with ASan and UBSan.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -std=gnu11 -fms-extensions -D_GNU_SOURCE -DOCICR_VERSION='"$(VERSION)"' -Iengine/include -Iengine -I$(B)/proto -I. $(PKG_CFLAGS) \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(B)/fuzz/fuzz_image: tests/fuzz/fuzz_image.c tests/fuzz/fuzz.h $(ENGINE_SRC) $(PB_C) $(B)/proto/pb-registry.c \
		$(B)/arch/x86_64/restorer/blob.o $(B)/arch/x86_64/jump.o | $(PB_H)
	$(call msg,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_image.c $(ENGINE_SRC) $(PB_C) $(B)/proto/pb-registry.c \
		$(B)/arch/x86_64/restorer/blob.o $(B)/arch/x86_64/jump.o $(PKG_LIBS) -lpthread

$(B)/fuzz/fuzz_archive: tests/fuzz/fuzz_archive.c tests/fuzz/fuzz.h $(ENGINE_SRC) $(INSPECT_SRC) $(PB_C) $(B)/proto/pb-registry.c \
		$(B)/arch/x86_64/restorer/blob.o $(B)/arch/x86_64/jump.o | $(PB_H)
	$(call msg,CLANG,$@)
	@mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_archive.c $(ENGINE_SRC) $(INSPECT_SRC) $(PB_C) \
		$(B)/proto/pb-registry.c $(B)/arch/x86_64/restorer/blob.o $(B)/arch/x86_64/jump.o $(PKG_LIBS) -lpthread

# FUZZ_TARGET=fuzz_image (image parser and JSON codec) or fuzz_archive
# (what inspect reads from an archive); the seeds in tests/fuzz/corpus/.
FUZZ_TARGET ?= fuzz_image
# A 64 MiB quarantine (256 by default: many inputs' worth of freed memory
# that each exec touches afresh) and no returning of freed memory to the
# kernel: 1.5 to 3x fewer page faults, the same checks (docs/fuzzing.md).
FUZZ_ASAN_OPTIONS := quarantine_size_mb=64:allocator_release_to_os_interval_ms=-1
fuzz: $(B)/fuzz/$(FUZZ_TARGET)
	@mkdir -p $(B)/fuzz/corpus-$(FUZZ_TARGET)
	@if [ $(FUZZ_TARGET) = fuzz_image ]; then tests/fuzz/seed-corpus.sh $(B)/fuzz/corpus-$(FUZZ_TARGET); fi
	@cp tests/fuzz/corpus/$(FUZZ_TARGET:fuzz_%=%)/* $(B)/fuzz/corpus-$(FUZZ_TARGET)/ 2>/dev/null || true
	ASAN_OPTIONS=$${ASAN_OPTIONS:-$(FUZZ_ASAN_OPTIONS)} \
	$(B)/fuzz/$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 -timeout=60 \
		$(B)/fuzz/corpus-$(FUZZ_TARGET)

# Every input a fuzzer once failed on, and the seeds, run again: each
# target must go through its own without a finding.
fuzz-regress: $(B)/fuzz/fuzz_image $(B)/fuzz/fuzz_archive
	$(B)/fuzz/fuzz_image -runs=1 $$(ls -d tests/fuzz/regress/image/* tests/fuzz/corpus/image/* 2>/dev/null)
	$(B)/fuzz/fuzz_archive -runs=1 $$(ls -d tests/fuzz/regress/archive/* tests/fuzz/corpus/archive/* 2>/dev/null)

install: all $(B)/ocicr.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/ocicr $(DESTDIR)$(BINDIR)/ocicr
	install -d $(DESTDIR)$(CRIUDIR)
	ln -sfn $(BINDIR)/ocicr $(DESTDIR)$(CRIUDIR)/criu
	install -m 0644 $(B)/libocicr.a $(DESTDIR)$(LIBDIR)/libocicr.a
	install -m 0755 $(B)/libocicr.so $(DESTDIR)$(LIBDIR)/libocicr.so.$(VERSION)
	ln -sf libocicr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libocicr.so.$(SOVERSION)
	ln -sf libocicr.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libocicr.so
	install -m 0644 $(B)/ocicr.pc $(DESTDIR)$(LIBDIR)/pkgconfig/ocicr.pc
	install -m 0644 engine/include/ocicr.h $(DESTDIR)$(INCLUDEDIR)/ocicr.h
	install -D -m 0644 engine/include/ocicr/cleanup.h $(DESTDIR)$(INCLUDEDIR)/ocicr/cleanup.h
	install -m 0644 docs/ocicr.1 $(DESTDIR)$(MANDIR)/man1/ocicr.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ocicr $(DESTDIR)$(CRIUDIR)/criu $(DESTDIR)$(LIBDIR)/libocicr.a \
	      $(DESTDIR)$(LIBDIR)/libocicr.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libocicr.so.$(SOVERSION) \
	      $(DESTDIR)$(LIBDIR)/libocicr.so $(DESTDIR)$(LIBDIR)/pkgconfig/ocicr.pc \
	      $(DESTDIR)$(INCLUDEDIR)/ocicr.h $(DESTDIR)$(INCLUDEDIR)/ocicr/cleanup.h \
	      $(DESTDIR)$(MANDIR)/man1/ocicr.1

FORMAT_SRC = $(shell git ls-files '*.c' '*.h')
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
