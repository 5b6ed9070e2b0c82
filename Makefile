# Two commands on a fresh machine: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app rph_pwa
export FLASK_APP := rph_pwa

.PHONY: run test lint test-sqlite test-postgres bench setup translations migrate demo totp clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) translations

## Compiled catalogs are rebuilt only when their .po changed (two suites started side by side in CI
## never rewrite a catalog the other is reading); each is written to a temporary file and moved.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard rph_pwa/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGS)

rph_pwa/translations/%/LC_MESSAGES/messages.mo: rph_pwa/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@.tmp -l $* >/dev/null && mv $@.tmp $@

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo-data

## Set up everything and serve the app with demo data on http://localhost:5000, with the
## scheduler (mail delivery, clean-up) beside it; Ctrl-C stops both
run: demo
	@$(FLASK) scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; \
	trap 'exit 130' INT TERM; \
	$(FLASK) run --host localhost --port 5000

## Set up everything and run the whole test suite (browser tests in Debian's Chromium)
test: setup chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Lint and check the import order (ruff, configured in pyproject.toml); `ruff check --fix .` fixes most
lint: $(STAMP)
	$(BIN)/ruff check .

chromium:
	@scripts/ensure-chromium

bench: setup
	$(BIN)/python -m bench
	$(BIN)/python -m bench.statistics
	$(BIN)/python -m bench.day
	$(BIN)/python -m bench.selfhelp
	$(BIN)/python -m bench.reminders
	$(BIN)/python -m bench.courses
	$(BIN)/python -m bench.records
	$(BIN)/python -m bench.transfer
	$(BIN)/python -m bench.throughput
	scripts/with-postgres $(BIN)/python -m bench.load

## Print the current TOTP code of a demo staff user: make totp USER=terapeut
totp: setup
	@$(FLASK) totp-code $(USER)

clean:
	rm -rf $(VENV) instance .pytest_cache

## Refresh the translation catalogs after changing UI text (then translate nb and nn)
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --ignore-dirs='.*' -o rph_pwa/translations/messages.pot .
	$(BIN)/pybabel update -i rph_pwa/translations/messages.pot -d rph_pwa/translations
