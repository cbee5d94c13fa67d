# Review Portal — the two commands:
#   make run    set up and start the portal with demo data (http://127.0.0.1:8000; PORT=… to change)
#   make test   run the whole test suite
# Everything else here is what those two need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

# Local development and tests use the development defaults (SQLite, server-less broker).
# Production sets DEBUG=0 and the variables listed in .env.example.
export DEBUG ?= 1
# Links in emails and calendar feeds, and the address printed after the demo logins.
export SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: run test install assets browser migrate demo lint format check audit clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@# A development checkout runs with DEBUG=1 even when manage.py is called directly.
	@test -f .env || printf '# Development settings for this checkout (see .env.example for all of them).\nDEBUG=1\n' > .env
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(BIN)/.installed

assets: node_modules/.installed

# The browser journeys (tests/browser) drive Debian's Chromium: install it when it is missing and
# this account may (root with apt-get); otherwise say so, and those tests skip (or fail under
# REQUIRE_SERVICES=1). CHROMIUM_PATH names another build.
browser:
	@test -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's Chromium for the browser tests."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "No Chromium at $${CHROMIUM_PATH:-/usr/bin/chromium}: the browser tests will not run (apt-get install chromium)."; \
	  fi; }

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: install assets demo
	@echo "Starting web, Celery worker and Celery beat on http://127.0.0.1:$(PORT) — Ctrl-C stops all three."
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

# Everything the suite needs is prepared here, so a fresh clone needs nothing else:
# the virtualenv, the U.S. Web Design System assets (pages and check --deploy read them) and Chromium.
test: install assets browser
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: install
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

audit: install
	PIP_AUDIT_REQUIRED=1 .ci/security-audit

clean:
	rm -rf var/celery-broker var/celery-control var/celerybeat-schedule*
