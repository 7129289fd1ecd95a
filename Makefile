# Two commands do everything on a fresh clone (Python >= 3.11 and make):
#   make book   build the site into _build/html (creates .venv and installs pinned deps if needed)
#   make test   build the book, then run the whole test suite: ntklib unit tests, every chapter
#               through nbval, and every page of the built site in headless Chromium
#   make browser-deps   the site test's MathJax copy (npm); Chromium comes from Debian
#               (apt-get install chromium chromium-driver)
#   make notebooks  build the book, then copy its student notebooks beside the sources
#               (chapters/<chapter>.ipynb: what Binder, Colab and the download button open); commit them
#   make binder-check   the Binder environment, built fresh from binder/, opens every chapter's student
#               notebook in JupyterLab, runs all its cells and checks what the student sees
#   make bench  benchmarks against their targets (several minutes; writes benchmarks/results.json)
#   make seeds N=20   every chapter under N seeds, each verification's pass/fail count
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# MathJax 3 for the browser test (tests/test_site.py), which answers the pages' CDN requests
# from this copy.  .cache/ is git-ignored and excluded from the book's sources (_config.yml).
NPM_CACHE       := .cache/npm
MATHJAX_VERSION := 3.2.2
MATHJAX_STAMP   := $(NPM_CACHE)/node_modules/.mathjax-$(MATHJAX_VERSION)

.PHONY: book test bench seeds install clean browser-deps binder-check notebooks

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required; set PYTHON=python3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	# Build matplotlib's font cache now, so no chapter prints the one-time notice to stderr.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot"
	touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . -n -W --keep-going

# The build writes _build/notebooks/*.ipynb (ntklib.notebooks); tests/test_notebooks.py fails while
# the committed copies differ from what the converter makes of the current sources.
notebooks: book
	$(BIN)/python -m ntklib.notebooks

# The site test reads _build/html, so the book is (re)built first; an unchanged rebuild takes seconds.
test: book
	$(BIN)/python -m pytest

browser-deps: $(MATHJAX_STAMP)
	@test -x /usr/bin/chromium || echo "note: no /usr/bin/chromium; install Debian's: apt-get install chromium chromium-driver"

$(MATHJAX_STAMP):
	npm install --prefix $(NPM_CACHE) --no-save --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	touch $@

# Builds a fresh environment from binder/ alone (about a minute with a warm pip cache; needs PyPI),
# then drives JupyterLab in Chromium.
binder-check: $(STAMP)
	$(BIN)/python tests/binder_check.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

N ?= 20
seeds: $(STAMP)
	$(BIN)/python tests/seed_sweep.py --seeds $(N)

clean:
	rm -rf _build .pytest_cache .hypothesis
