# staticimg — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest bench install clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# pip compiles an installed wheel's modules; an editable install's are compiled here, so
	# that no command compiles them on every start where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q runtime compiler
	touch $@

install: $(STAMP)

# Build the bundled example site and render it to static HTML. `staticimg build` (extract,
# then inject) makes the images and writes each call's __image_data into the example's own
# sources, as in a user's project; a second run changes nothing. One call names a missing
# file on purpose, to show the error path, so the build reports that error (SI301) and exits
# with 1; render.py then checks that this is the only image that failed.
demo: $(STAMP)
	cd examples/site && { ../../$(BIN)/staticimg build; [ $$? -le 1 ]; }
	cd examples/site && ../../$(BIN)/python render.py
	@echo "The example site is in examples/site/public/ (index.html from Jinja templates,"
	@echo "gallery.html from Python functions, notes.html from Markdown). Serve it, with the"
	@echo "/_image endpoint, and open http://127.0.0.1:8000/ :"
	@echo "  cd examples/site && ../../$(BIN)/staticimg serve --port 8000"

test: $(STAMP) system-deps lint typecheck pytest

# System packages the tests use, from Debian: Ghostscript's CMYK ICC profile (AGPL, so not
# committed), and Chromium with its WebDriver for the browser tests (tests/browser: nothing
# is downloaded by the tests themselves). Installed when missing and apt-get is usable;
# otherwise those tests skip.
SYSTEM_FILES := /usr/share/color/icc/ghostscript/default_cmyk.icc
BROWSER_FILES := /usr/bin/chromium /usr/bin/chromedriver
system-deps:
	@missing=""; for f in $(SYSTEM_FILES); do [ -e "$$f" ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q --no-install-recommends libgs-common >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends libgs-common >/dev/null)) \
	    || echo "system-deps: could not install libgs-common; the CMYK-profile tests will skip"; \
	  else echo "system-deps: run as root with apt-get to install libgs-common; the CMYK-profile tests will skip"; fi; \
	fi
	@missing=""; for f in $(BROWSER_FILES); do [ -e "$$f" ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	     (apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null)) \
	    || echo "system-deps: could not install chromium, chromium-driver; the browser tests will skip"; \
	  else echo "system-deps: run as root with apt-get to install chromium, chromium-driver; the browser tests will skip"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot see through setuptools' editable import hook for a remapped layout, so it reads
# a generated tree of symlinks that has the installed shape: staticimg/ = runtime/ + compiler/.
typecheck: $(STAMP)
	rm -rf .typecheck && mkdir -p .typecheck/staticimg
	for entry in runtime/*; do ln -s "../../$$entry" ".typecheck/staticimg/$$(basename $$entry)"; done
	ln -s ../../compiler .typecheck/staticimg/compiler
	$(BIN)/mypy -p staticimg
	$(BIN)/mypy tests bench

pytest: $(STAMP)
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/scan_speed.py
	$(BIN)/python bench/extract_speed.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/render_speed.py

clean:
	rm -rf $(VENV) .typecheck .staticimg build *.egg-info
