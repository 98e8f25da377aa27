# Two commands for a fresh clone: `make run` and `make test`.
# Both create .venv when it is missing and (re)install the project when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean compiled

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -e '.[test]'
	touch $(STAMP)

# Compiled once here, so a process that may not write them (PYTHONDONTWRITEBYTECODE) does not
# compile the package's modules again each time it starts (0.1 s of a rerun at 13,000 pictures).
compiled: $(STAMP)
	@$(PY) -m compileall -q monster_studio benchmarks > /dev/null

run: compiled
	@$(PY) -m monster_studio.ui.platform_check --install
	$(VENV)/bin/monster-studio

test: compiled
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: compiled
	$(PY) benchmarks/train_speed.py ../shared/data/hymenoptera

clean:
	rm -rf $(VENV) *.egg-info
