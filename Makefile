# make install && make demo   shows the product; make test runs the suite;
# make e2e drives JupyterLab in Chromium (Debian's: apt-get install chromium).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: install demo test e2e mcp remote screenshots lint bench profile faults corpus clean

install:
	python3 -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[test,dev,e2e]'
	$(PY) -m bridge install --sys-prefix
	$(VENV)/bin/jupyter kernelspec list

demo:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) examples/demo.py

test:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) -m pytest -q -p no:cacheprovider tests

# The browser suite; artifacts (screenshots, logs) in tests/artifacts/e2e/.
e2e:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) -m pytest -q -p no:cacheprovider tests/e2e \
		--ignore=tests/e2e/test_lab_remote_kernels.py

# An agent's tools: jupyter-mcp-server driven over MCP. It needs
# jupyter-collaboration in its Jupyter server, so it gets an environment of
# its own (.venv-mcp), built here when missing.
MCP_VENV ?= .venv-mcp
mcp:
	test -x $(MCP_VENV)/bin/jupyter-mcp-server || \
		(python3 -m venv $(MCP_VENV) && $(MCP_VENV)/bin/pip install -q 'jupyter-mcp-server>=2.2,<3')
	MCP_VENV=$(CURDIR)/$(MCP_VENV) JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter \
		$(PY) -m pytest -q -p no:cacheprovider tests/mcp

# Remote kernels: Jupyter Enterprise Gateway starts the kernel on a host over
# ssh (this machine at 127.0.0.2, through an sshd of the test's own: Debian's
# openssh-server). EG pins jupyter_client < 7, so it gets an environment of
# its own (.venv-eg), built here when missing.
EG_VENV ?= .venv-eg
remote:
	test -x $(EG_VENV)/bin/jupyter-enterprisegateway || \
		(python3 -m venv $(EG_VENV) && \
		 $(EG_VENV)/bin/pip install -q 'jupyter_enterprise_gateway>=3.2,<4')
	MARIMO_BRIDGE_EG_VENV=$(CURDIR)/$(EG_VENV) JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter \
		$(PY) -m pytest -q -p no:cacheprovider tests/remote tests/e2e/test_lab_remote_kernels.py

# The README's pictures (examples/screenshots/), from the scenarios that make them.
screenshots:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) -m pytest -q -p no:cacheprovider \
		tests/e2e --readme-shots -k "updates_dependents or failing_dependent or twin_intact or slider_drives_a_chart"

lint:
	$(VENV)/bin/ruff check bridge tests bench examples
	$(VENV)/bin/mypy

bench:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_execute.py
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_twin.py
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_scenarios.py
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_widgets.py
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/bench_scale.py
	$(PY) bench/bench_protocol.py

# Where an edit-run's time goes, in the bridge and in its runtime (py-spy).
profile:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/profile.py

# The fault scenarios (docs/faults.md), the long floods and the soak included;
# prints a table and fails on any failure or lost data.
faults:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/faults.py

# Notebooks written for ipykernel under both kernels, as they are and after
# `python -m bridge convert` (bench/corpus.py); CORPUS= other folders.
CORPUS ?= tests/notebooks/corpus
corpus:
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(PY) bench/corpus.py $(CORPUS)

clean:
	rm -rf $(VENV) $(MCP_VENV) build *.egg-info bench/results.json tests/artifacts
