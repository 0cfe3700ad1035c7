# The two entry points of the README. Each creates the virtualenv from pyproject.toml first.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Publish records/ and serve it on the embedded store (exit 3 = some records rejected, still served).
serve: $(BIN)/.installed
	$(BIN)/lod build records --out site --base-uri http://$(HOST):$(PORT)/ || [ $$? -eq 3 ]
	$(BIN)/lod serve site --host $(HOST) --port $(PORT)

# nginx lets tests/test_nginx.py check deploy/nginx.conf, rapper (Raptor) lets tests/test_rapper.py
# read every published RDF file with a second parser, Chromium lets tests/test_browser.py
# run the query page and tests/test_xss.py (through Playwright) every HTML view, and Virtuoso
# lets tests/test_stores.py push to and serve from a real Virtuoso; the benchmark suite also
# runs wrk. Each is installed from Debian's packages (command:package) only where we may
# (root), else what needs it skips.
TEST_NEEDS = nginx:nginx-light chromium:chromium virtuoso-t:virtuoso-opensource rapper:raptor2-utils
BENCH_NEEDS = nginx:nginx-light virtuoso-t:virtuoso-opensource wrk:wrk
define install_missing
	@missing=""; \
	for need in $(1); do \
		command -v $${need%%:*} >/dev/null || [ -x /usr/sbin/$${need%%:*} ] || missing="$$missing $${need#*:}"; \
	done; \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } || \
		echo "note: could not install$$missing; what needs them will skip"
endef

# Comunica, the JavaScript SPARQL engine, lets tests/test_comunica.py query the endpoint and the
# documents as its users do. npm installs the versions tests/comunica/package-lock.json pins into
# .cache/comunica (git ignores it), once and again only when the pins change; without npm (or
# offline) the stamp stays missing and those tests skip.
COMUNICA := .cache/comunica
$(COMUNICA)/.installed: tests/comunica/package.json tests/comunica/package-lock.json
	@if command -v npm >/dev/null; then \
		mkdir -p $(COMUNICA) && cp $^ $(COMUNICA)/ && \
		npm ci --prefix $(COMUNICA) --silent --no-audit --no-fund >/dev/null && touch $@ || \
		echo "note: npm could not install Comunica; tests/test_comunica.py will skip"; \
	else echo "note: npm is not installed; tests/test_comunica.py will skip"; fi

test: $(BIN)/.installed $(COMUNICA)/.installed
	$(call install_missing,$(TEST_NEEDS))
	$(BIN)/ruff check lod tests bench stress
	$(BIN)/ruff format --check lod tests bench stress
	$(BIN)/mypy lod
	$(BIN)/python -m pytest

# The benchmark suite (bench/suite.py): builds, SPARQL latency and dereferencing, side by side;
# the report goes to bench/out/suite.md. `make bench BENCH_SIZES=10000,100000,1000000` adds 1M.
BENCH_SIZES ?= 10000,100000
bench: $(BIN)/.installed
	$(call install_missing,$(BENCH_NEEDS))
	$(BIN)/python bench/suite.py --sizes $(BENCH_SIZES) --out bench/out/suite.md

clean:
	rm -rf site .pytest_cache .mypy_cache .ruff_cache bench/out
