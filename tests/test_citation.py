"""CITATION.cff is valid under the Citation File Format 1.2.0 schema, and agrees with the package.

The schema (``tests/data/citation-file-format-1.2.0.schema.json``) is the official one, as shipped
by cffconvert 2.0.0 (CC BY 4.0, https://github.com/citation-file-format/citation-file-format).
cffconvert itself pins jsonschema 3, which the Jupyter stack cannot share, so the schema is
checked here with the installed jsonschema.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

import ntklib

ROOT = Path(__file__).resolve().parents[1]


def test_citation_cff_is_valid_under_its_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "citation-file-format-1.2.0.schema.json").read_text())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    cff["date-released"] = str(cff["date-released"])        # YAML reads the date as a date; CFF means a string
    jsonschema.validate(cff, schema, format_checker=jsonschema.FormatChecker())
    with pytest.raises(jsonschema.ValidationError):             # the schema does reject a bad file
        jsonschema.validate({**cff, "licence": "MIT"}, schema)


def test_versions_agree() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    pyproject = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    bibtex = re.search(r"version\s*=\s*\{([^}]+)\}", (ROOT / "chapters" / "cite.md").read_text()).group(1)
    assert cff["version"] == pyproject == bibtex == ntklib.__version__
