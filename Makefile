# guildbot — everything installs into .venv from scratch; nothing global but Debian packages for tests.
#
# Installs come from the committed locks (requirements.txt, requirements-dev.txt: exact versions with
# hashes, made by `make lock`), so pip resolves nothing: it only checks hashes and unpacks wheels.
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip -q --disable-pip-version-check
GUILD   = $(VENV)/bin/guildbot
export HF_HUB_OFFLINE = 1

# pip's version, pinned: `python3 -m venv` bundles pip 23.2.1, whose resolver is never used here.
PIP_VERSION ?= 26.3
# torch is installed first, on its own, pinned to the CPU build. On this machine kind the wheel lies
# on disk (pip's find-links); elsewhere: make TORCH_INDEX=https://download.pytorch.org/whl/cpu ...
TORCH       ?= torch==2.13.0
TORCH_INDEX ?=
UV_VERSION  ?= 0.13.9
# where `make lock` finds the CPU torch wheel whose dependencies it locks (a folder or a find-links page)
TORCH_FIND_LINKS ?= /opt/wheels

.PHONY: install dev demo test bench screenshots web clean lock

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check pip==$(PIP_VERSION)

# --no-deps: torch's own dependencies (sympy, networkx, ...) are in the lock, at the versions locked
$(VENV)/.torch: | $(VENV)/bin/python
	$(PIP) install --no-deps $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH)
	touch $@

# --no-deps: the lock is complete (tests/test_lock.py), so nothing is resolved; pip check proves it.
$(VENV)/.installed: $(VENV)/.torch requirements.txt pyproject.toml
	$(PIP) install --require-hashes --no-deps -r requirements.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	$(PIP) check
	touch $@

$(VENV)/.dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install --require-hashes --no-deps -r requirements-dev.txt
	$(PIP) check
	touch $@

# Refresh the locks after changing a dependency in pyproject.toml (or to take newer releases).
# uv resolves in seconds; torch is left out of the locks (installed above) but its own
# dependencies are locked as the CPU build declares them.
LOCK = $(VENV)/bin/uv pip compile pyproject.toml -q --generate-hashes --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --find-links $(TORCH_FIND_LINKS) --override .lock-overrides.txt \
	--no-emit-package torch --custom-compile-command "make lock"
lock: | $(VENV)/bin/python
	$(PIP) install uv==$(UV_VERSION)
	$(LOCK) -o requirements.txt
	$(LOCK) --extra dev -o requirements-dev.txt

install: $(VENV)/.installed
dev: $(VENV)/.dev

demo: install
	$(PY) examples/make_demo.py
	$(GUILD) --config examples/guild.toml crawl
	$(PY) examples/make_demo.py --questions examples/guild.toml
	$(PY) examples/ask.py examples/guild.toml

test: dev
	$(PY) -m pytest -q

bench: dev
	$(PY) scripts/bench.py
	$(PY) scripts/bench_cli.py
	$(if $(BENCH_AGAINST),$(PY) scripts/bench_cli.py --against $(BENCH_AGAINST))  # make bench BENCH_AGAINST=REV: CLI questions side by side with REV
	$(PY) scripts/bench_scale.py
	$(PY) scripts/bench_pg.py
	$(PY) scripts/bench_slack.py
	$(PY) scripts/bench_web.py
	$(PY) scripts/bench_crawl.py  # needs the evaluation org beside the checkout; says so and skips without it

# a screenshot of each page of the demo org's web app, into docs/img (after make demo)
screenshots: dev
	$(PY) scripts/screenshots.py

# the demo's web page at http://127.0.0.1:3000/ (after make demo)
web: install
	$(GUILD) --config examples/guild.toml serve --port 3000

clean:
	rm -rf $(VENV) examples/build .pytest_cache
