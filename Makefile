# Two commands: `make demo` runs the story server locally, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A CPU build of torch: development and CI never pull a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0

.PHONY: demo demo-drive test install browser redis faketime bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)"
	# PYTHONWARNINGS: without setuptools' note on how editable installs import (a --quiet install is quiet)
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e ".[web,worker,dev]"
	touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium through Playwright and check each page with axe-core
# (npm, pinned in package-lock.json); nothing is downloaded at test time.
browser: node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --silent
	touch $@

# The Redis store's tests start their own redis-server (Debian's package) on a free port.
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq redis-server; }

# The clock tests run a worker whose wall clock is days off, through libfaketime (Debian's package).
faketime:
	@command -v faketime >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq faketime; }

# The web app on http://127.0.0.1:$(PORT)/ and a worker with the shipped model, on the queue $(QUEUE).
PORT ?= 5000
QUEUE ?= var/queue
# Ctrl-C is how the demo ends: honcho's exit status 130 for it is a clean stop, not an error.
demo: install
	PATH="$(abspath $(VENV))/bin:$$PATH" WEBAPP_ENV=development DRIVEQUEUE_URL="$(QUEUE)" \
	  $(VENV)/bin/honcho start -f Procfile.dev --port $(PORT) || [ $$? -eq 130 ]

# The same two processes on Google Drive's API path, against the bundled Drive emulator
# (no Google account needed): requests see 100 ms of latency and name listings lag by 2 s.
demo-drive: install
	PATH="$(abspath $(VENV))/bin:$$PATH" WEBAPP_ENV=development \
	  $(PY) -m drivequeue.emulator --port 0 --latency-ms 100 --list-lag-s 2 --folder stories -- \
	  $(VENV)/bin/honcho start -f Procfile.dev --port $(PORT)

test: install browser redis faketime
	$(PY) -m pytest

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) var node_modules
