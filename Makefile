# The two commands a newcomer needs (see README.md):
#   make demo   start local Kafka + Elasticsearch, build the model, ingest the demo corpus, show results
#   make test   the whole test suite against the real Kafka and Elasticsearch it starts
# Everything else is installed by these targets into .venv; nothing is needed by hand but
# python3 (3.11+), a JDK (17+) and Maven, which fetch Kafka and Elasticsearch from Maven Central.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lytter-installed

.PHONY: install demo test unit bench services-up services-down clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Lytter needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --progress-bar on -e '.[dev,build-model]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lytter demo

test: $(STAMP)
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not integration"

bench: $(STAMP)
	$(BIN)/lytter bench

services-up: $(STAMP)
	$(BIN)/lytter services up

services-down: $(STAMP)
	$(BIN)/lytter services down

clean:
	-$(BIN)/lytter services down
	rm -rf .lytter
