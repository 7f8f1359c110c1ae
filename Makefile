# The test command of README.md; .ci/run calls exactly `make test`.
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test deps lint build bench

# -count=1: test/e2e builds and runs the binary itself, so the test cache
# cannot see server changes and would replay stale results.
test: deps lint
	$(GO) test -race -count=1 -timeout 25m ./...

# Tests run against real parts: a real etcd from Debian's etcd-server package.
deps:
	@command -v etcd >/dev/null 2>&1 || { \
		echo "etcd not found: installing etcd-server"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y etcd-server; }
	@command -v kubectl >/dev/null 2>&1 || { echo "kubectl not found: the e2e tests drive the real kubectl, which every skiff machine has"; exit 1; }

lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

build:
	$(GO) build -o bin/skiff ./cmd/skiff

bench:
	$(GO) run ./bench/storage
