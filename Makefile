# The two commands a newcomer types are `make demo` and `make test`; everything they need
# (Debian packages, a virtual environment with the Python packages) is set up on the way.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo demo-lobby test lint bench system-deps translations

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

system-deps:
	@bash .ci/system-deps

# VISIT_IN=10: the remote visit's join window opens at once (the family's page: see the log).
demo: $(VENV)/.installed
	$(VENV)/bin/kiosk run --demo $(if $(VISIT_IN),--visit-in $(VISIT_IN))

demo-lobby: $(VENV)/.installed
	$(VENV)/bin/kiosk run --demo --role lobby

# The layers ([tool.importlinter] in pyproject.toml) after the style; no cache left behind.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# -p no:cacheprovider: a test run leaves nothing in the work tree but the README's screenshots.
test: system-deps $(VENV)/.installed lint
	$(PY) -m pytest -p no:cacheprovider

bench: system-deps $(VENV)/.installed
	$(PY) bench/startup.py

# After changing a user-visible text: extract, merge into each catalog, translate, compile.
# Babel's own keywords stay (ngettext among them, `language.ngettext(...)` too); `_` and
# `Plural` (a count's message translated where it is shown) are the kiosk's. The template has
# no header: the plural rule (Plural-Forms) is each language's, in its .po, which `update`
# keeps and `compile` writes into the .mo, where gettext reads it.
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -k _ -k Plural:1,2 --no-location --omit-header --sort-output -o assets/locale/kiosk.pot kiosk
	$(VENV)/bin/pybabel update -D kiosk -i assets/locale/kiosk.pot -d assets/locale --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -D kiosk -d assets/locale
