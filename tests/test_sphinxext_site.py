"""The site's hooks: MathJax from the package, lettered appendix numbers, statements named by number."""

from __future__ import annotations

from types import SimpleNamespace

from docutils import nodes

from ntklib import sphinxext_site as site


def test_mathjax_parts_are_in_the_package() -> None:
    es5 = site.mathjax_source()
    assert es5 is not None, "django-static-mathjax is a book dependency (pyproject.toml)"
    for part in site.MATHJAX_PARTS:
        assert (es5 / part).exists(), part
    assert (es5 / "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    assert "3.2.2" in (es5 / "tex-chtml.js").read_text(encoding="utf-8")[:100_000]


def test_only_a_relative_mathjax_path_is_served_locally() -> None:
    assert site._local_mathjax(SimpleNamespace(mathjax_path="mathjax/tex-chtml.js"))
    assert not site._local_mathjax(SimpleNamespace(mathjax_path="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"))


def test_appendix_numbers_take_the_letter_once() -> None:
    numbers = {"figure": {"fig-a": (1,), "fig-b": (2,)}, "displaymath": {"equation-x": (1,)}}
    lettered = site.appendix_numbers(numbers, "A")
    assert lettered == {"figure": {"fig-a": ("A", 1), "fig-b": ("A", 2)}, "displaymath": {"equation-x": ("A", 1)}}
    assert site.appendix_numbers(lettered, "A") == lettered


def _env() -> SimpleNamespace:
    return SimpleNamespace(
        proof_list={"lem-smooth": {"docname": "ch2", "realtype": "lemma", "countertype": "lemma"}},
        toc_fignumbers={"ch2": {"lemma": {"lem-smooth": (2, 1)}, "displaymath": {"equation-eq-rate": (2, 3)}}},
        domaindata={"math": {"objects": {"eq-rate": ("ch2", 3)}},
                    "std": {"labels": {"sec-x": ("ch1", "sec-x", "Measuring the errors")}}},
    )


def test_statements_are_named_by_the_books_numbers() -> None:
    env = _env()
    assert site.statement_target(env, "lem-smooth") == ("ch2", "lem-smooth", "Lemma 2.1")
    assert site.statement_target(env, "eq-rate") == ("ch2", "equation-eq-rate", "Equation (2.3)")
    assert site.statement_target(env, "sec-x") == ("ch1", "sec-x", "Measuring the errors")
    assert site.statement_target(env, "nowhere") is None


def test_report_labels_become_links() -> None:
    env = _env()
    app = SimpleNamespace(env=env, builder=SimpleNamespace(get_relative_uri=lambda a, b: f"{b}.html"))
    doc = nodes.document(None, None)
    doc += nodes.raw("", '<p><code class="ntklib-label" data-label="lem-smooth">lem-smooth</code>: '
                         '<code class="ntklib-label" data-label="other">other</code></p>', format="html")
    site._name_report_statements(app, doc, "ch2")
    text = doc.astext()
    assert '<a class="reference internal" href="ch2.html#lem-smooth">Lemma 2.1</a> <code' in text
    assert text.count("<a ") == 1                                 # an unknown label stays as it is
