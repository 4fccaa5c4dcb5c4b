# make install && make demo   shows the product; make test runs the suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install demo test lint bench clean

install:
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test,dev]'
	$(PY) -m bridge install --sys-prefix
	$(VENV)/bin/jupyter kernelspec list

demo:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) examples/demo.py

test:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) -m pytest -q -p no:cacheprovider tests

lint:
	$(VENV)/bin/ruff check bridge tests bench examples
	$(VENV)/bin/mypy

bench:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_execute.py
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_twin.py

clean:
	rm -rf $(VENV) build *.egg-info bench/results.json
