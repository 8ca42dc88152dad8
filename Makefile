# A thin front to CMake.  `make run`, `make test` and `make fuzz` first
# install, from Debian's packages, whatever the build needs and the
# machine lacks.

BUILD      ?= build
SAN_BUILD  ?= build/sanitize
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DATA       ?= enrt-data
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60

DEB_PACKAGES = cmake make gcc pkg-config protobuf-c-compiler \
	libprotobuf-c-dev libnng-dev liblmdb-dev libsodium-dev \
	libcmocka-dev libjansson-dev libinih-dev openssl curl \
	clang libclang-rt-14-dev lmdb-utils

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test bench fuzz format clean

all: build

# Installs only the packages that are missing, so that a machine that has
# them all needs neither the network nor root.
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
			| grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/bin/enrtd --data $(DATA)

# The tests run against a build with AddressSanitizer and UBSan.
test: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DENRT_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# Builds Release in $(BUILD), runs the standard load against a fresh
# enrtd, an nng echo server and (when installed) redis, prints one table
# and the targets as ratios.  BENCH_MILLION=1 adds the runs with a
# million tokens stored (about seven minutes more).
bench: deps
	BUILD=$(BUILD) JOBS=$(JOBS) bash bench/run.sh

# libFuzzer needs clang: the harnesses get a clang build of their own,
# and each runs for FUZZ_SECONDS on its corpus, one after the other.
fuzz: deps
	bash tests/fuzz/run.sh $(CURDIR) $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
