# A thin front over Meson and Ninja. `make demo` and `make test` install what
# they need first (as root on Debian bookworm).
BUILD ?= build
MESON_OPTS ?=

.PHONY: all deps test-deps build test demo clean

all: build

deps:
	./scripts/install-deps.sh

test-deps:
	KILN_DEPS_TESTS=1 ./scripts/install-deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: test-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	./scripts/run-tests.sh $(BUILD)

demo: test-deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	./scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
