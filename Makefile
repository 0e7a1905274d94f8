# sigmirror: `make` builds dist/sigmirror; `make test` is the test command of the README.
BIN := node_modules/.bin
BUN := $(BIN)/bun
DENO := $(BIN)/deno
SOURCES := $(shell find src -name '*.ts' -not -name '*.test.ts') build.ts package.json

.PHONY: build deps test test-deno lint demo bench clean image

build: dist/sigmirror

deps:
	@scripts/install-deps.sh

dist/sigmirror: $(SOURCES) | deps
	$(BUN) build.ts

# OCI image layout in dist/image, built offline (scripts/make-image.sh; the Dockerfile is the online twin).
image: build
	scripts/make-image.sh dist/image dist/sigmirror

test: deps
	env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u ALL_PROXY -u NO_PROXY -u no_proxy $(BUN) test

test-deno: deps
	env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy $(DENO) test -A test/deno/cli-smoke.deno.ts src/ledger/

lint: deps
	$(BIN)/tsc --noEmit -p .

demo: build
	scripts/demo.sh

bench: build
	env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy $(BUN) bench/run.ts

clean:
	rm -rf dist .tmp
