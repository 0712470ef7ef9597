# The two commands a fresh machine needs: `make run` and `make test`.
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app kipp:create_app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install translations extract-messages db-upgrade demo clean

run: install db-upgrade demo ## serve the embedded default (SQLite, in-process tasks, demo data)
	@echo "kipp is at http://$(HOST):$(PORT)  (demo logins: see README.md)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install ## the whole test suite; says which suites it skipped and why
	$(BIN)/pytest

install: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d kipp/translations

extract-messages: $(VENV)/.installed ## refresh the message catalogues after changing UI text
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l --ignore-dirs '.*' --no-location --sort-output -o kipp/translations/messages.pot .
	$(BIN)/pybabel update --ignore-obsolete -i kipp/translations/messages.pot -d kipp/translations --no-fuzzy-matching

db-upgrade: install
	$(FLASK) db upgrade
	$(FLASK) kipp load-regions

demo: install
	$(FLASK) kipp seed-demo

clean:
	rm -rf $(VENV) instance .pytest_cache
