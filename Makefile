# Two commands on a fresh machine:
#   make run    create .venv if missing, install Nanobot, open the app
#   make test   create .venv if missing, install Nanobot with test tools, run lint, types and tests
#
# llama-cpp-python has no wheel on the package index: the first install compiles llama.cpp
# (about 4-5 minutes on 2 cores). The wheel is kept in $(WHEELHOUSE) and reused by every later
# install, whatever pip's own cache holds.

PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
LLAMA_VER  := 0.3.36
CPU_KEY    := $(shell (uname -m; grep -m1 -o 'flags.*' /proc/cpuinfo 2>/dev/null) | cksum | cut -c1-8)
WHEELHOUSE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nanobot/wheels/$(CPU_KEY)
# Vision (libmtmd) is not needed: building without it is about 17% faster.
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF
PIP        := $(BIN)/python -m pip --disable-pip-version-check
PIP_FLAGS  := --find-links $(WHEELHOUSE) -c constraints.txt

.PHONY: run test lint types pytest wheel clean-venv constraints fresh-check

run: $(VENV)/.installed
	$(BIN)/nanobot

test: $(VENV)/.installed-test
	.ci/checks $(PYTEST_ARGS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

wheel: $(BIN)/python
	@if ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_VER)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_VER): using the wheel built earlier in $(WHEELHOUSE)"; \
	else \
		echo "Building llama-cpp-python $(LLAMA_VER) from source (first install only, about 4-5 min on 2 cores)..."; \
		mkdir -p $(WHEELHOUSE); \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir -v -w $(WHEELHOUSE) \
			llama-cpp-python==$(LLAMA_VER) 2>&1 | .ci/build-progress || exit 1; \
	fi

$(VENV)/.installed: pyproject.toml constraints.txt | wheel
	$(PIP) install -q $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | wheel
	$(PIP) install -q $(PIP_FLAGS) -e '.[test]'
	@touch $@ $(VENV)/.installed

clean-venv:
	rm -rf $(VENV)

# Regenerate constraints.txt from the venv (install every extra you want pinned first, e.g.
#   make .venv/.installed-test && .venv/bin/pip install -c constraints.txt -e '.[coder15,semantic]').
# `pip list --format=freeze` writes name==version only; `pip freeze` writes a direct reference to the file for
# anything installed from a local file, which no other machine can install.
constraints:
	@$(PIP) list --format=freeze --exclude-editable | grep -v -E '^(pip|setuptools|wheel)==' > constraints.new
	@if grep -n -v -E '^[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+$$' constraints.new; then \
		echo "constraints.new: the lines above are not plain name==version pins"; exit 1; fi
	@{ echo "# Versions the project was tested with; the Makefile installs with -c constraints.txt."; \
	   echo "# Plain name==version pins only (tests/test_packaging.py). Regenerate: make constraints"; \
	   cat constraints.new; } > constraints.txt
	@rm -f constraints.new
	@echo "constraints.txt: $$(grep -c '==' constraints.txt) pins"

# What a new user does: a fresh clone, an empty HOME (no pip, wheel or model cache), the README's
# test command. Prints the wall time.
fresh-check:
	scripts/fresh-check
