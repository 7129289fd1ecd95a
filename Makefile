# Two commands do everything on a fresh clone (Python >= 3.11 and make):
#   make book   build the site into _build/html (creates .venv and installs pinned deps if needed)
#   make pdf    the book as a PDF, _build/latex/ntk-book.pdf, from the chapters `make book` executed
#               (xelatex; Debian: apt-get install --no-install-recommends $(make -s tex-packages))
#   make dist   the release archive _build/dist/ntk-book-<version>.zip: the PDF and the site,
#               readable offline
#   make test   build the book (and the PDF, where xelatex is installed), then run the whole test
#               suite: ntklib unit tests, every chapter through nbval, every page of the built site
#               in headless Chromium, and the PDF
#   make browser-deps   checks for the site test's browser, Chromium from Debian
#               (apt-get install chromium chromium-driver); MathJax comes with the book (PyPI)
#   make notebooks  build the book, then copy its student notebooks beside the sources
#               (chapters/<chapter>.ipynb: what Binder, Colab and the download button open); commit them
#   make binder-check   the Binder environment, built fresh from binder/, opens every chapter's student
#               notebook in JupyterLab, runs all its cells and checks what the student sees
#   make bench  benchmarks against their targets (several minutes; writes benchmarks/results.json)
#   make bench-peers   ntklib against Neural Tangents, in its own environment (.cache/peers-venv,
#               about 2 GiB; an hour or more; writes benchmarks/peers.json; QUICK=1 for a smoke run,
#               THREADS=1 for one BLAS/XLA thread each, on a loaded machine)
#   make seeds N=20   every chapter under N seeds, each verification's pass/fail count
#   make mutants  curated semantic mutants of ntklib against the unit tests and chapters (kill table)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: book pdf dist test bench bench-peers seeds mutants install clean browser-deps binder-check tex-packages notebooks

# Debian packages for `make pdf` (.ci/run installs them with --no-install-recommends): xelatex with
# the LaTeX packages Sphinx's output loads, latexmk, FreeSerif (Sphinx's xelatex font), the Korean
# block of ucharclasses' font switching (fonts-noto-cjk, already there for the browser), and
# poppler-utils (pdftotext, pdfimages, pdftoppm) for tests/test_pdf.py.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-fonts-recommended fonts-freefont-otf \
                fonts-noto-cjk latexmk poppler-utils

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required; set PYTHON=python3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	# Build matplotlib's font cache now, so no chapter prints the one-time notice to stderr.
	MPLBACKEND=Agg $(BIN)/python -c "import matplotlib.pyplot"
	touch $@

# The build imports this checkout's ntklib, whichever checkout the environment's editable install
# points at (ntklib.sphinxext refuses to build with another).
book: $(STAMP)
	PYTHONPATH=$(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH)) $(BIN)/jupyter-book build . -n -W --keep-going

# The build writes _build/notebooks/*.ipynb (ntklib.notebooks); tests/test_notebooks.py fails while
# the committed copies differ from what the converter makes of the current sources.
notebooks: book
	$(BIN)/python -m ntklib.notebooks

tex-packages:
	@echo $(TEX_PACKAGES)

# Jupyter Book's LaTeX builder reuses the environment `make book` pickled in _build/.doctrees (same
# configuration, so nothing is re-read or re-executed); latexmk then runs xelatex until references settle.
# The site is then built again (seconds): its intro and how-to-cite pages link the new PDF, which
# the build copies next to them as ntk-book-<version>.pdf.
pdf: book
	@command -v xelatex >/dev/null && command -v latexmk >/dev/null || \
	  { echo "make pdf needs xelatex and latexmk: apt-get install --no-install-recommends $(TEX_PACKAGES)"; exit 1; }
	PYTHONPATH=$(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH)) LATEXOPTS="-interaction=nonstopmode -halt-on-error -file-line-error" \
	  $(BIN)/jupyter-book build . --builder pdflatex -n -W --keep-going
	$(MAKE) --no-print-directory book

# The release archive of this version (CITATION.cff's): see tests/make_dist.py.
dist: pdf
	$(BIN)/python tests/make_dist.py

# The site and PDF tests read _build, so the book is (re)built first, and the PDF where xelatex is
# installed (tests/test_pdf.py skips without it); an unchanged rebuild takes seconds.
test: book $(if $(shell command -v xelatex),pdf)
	$(BIN)/python -m pytest

browser-deps:
	@test -x /usr/bin/chromium || echo "note: no /usr/bin/chromium; install Debian's: apt-get install chromium chromium-driver"

# Builds a fresh environment from binder/ alone (about a minute with a warm pip cache; needs PyPI),
# then drives JupyterLab in Chromium.
binder-check: $(STAMP)
	$(BIN)/python tests/binder_check.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Neural Tangents needs a jax the book does not use, and tensorflow for its imports: a separate
# environment from pinned files (PyPI only), rebuilt when they change.  Not part of make test or CI.
PEERS_VENV  := .cache/peers-venv
PEERS_STAMP := $(PEERS_VENV)/.installed-stamp
$(PEERS_STAMP): benchmarks/peers-requirements.txt benchmarks/peers-requirements-nodeps.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/peers-requirements.txt
	$(PEERS_VENV)/bin/python -m pip install --quiet --no-deps -r benchmarks/peers-requirements-nodeps.txt
	touch $@

bench-peers: $(PEERS_STAMP)
	$(PEERS_VENV)/bin/python benchmarks/peers.py $(if $(QUICK),--quick) $(if $(THREADS),--threads $(THREADS))

N ?= 20
seeds: $(STAMP)
	$(BIN)/python tests/seed_sweep.py --seeds $(N)

# Not part of `make test`: after changing ntklib or its tests (about 5-15 minutes on two cores).
mutants: $(STAMP)
	$(BIN)/python tests/mutants.py --jobs 2

clean:
	rm -rf _build .pytest_cache .hypothesis
