# guildbot — everything installs into .venv from scratch; nothing global but Debian packages for tests.
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip -q --disable-pip-version-check
GUILD   = $(VENV)/bin/guildbot
export HF_HUB_OFFLINE = 1

.PHONY: install dev demo test bench screenshots web clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)

# torch first, pinned: the CPU build on this disk; a plain requirement would pull CUDA wheels
$(VENV)/.torch: | $(VENV)/bin/python
	$(PIP) install torch==2.13.0
	touch $@

$(VENV)/.installed: $(VENV)/.torch pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(PIP) install -e '.[dev]'
	touch $@

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
