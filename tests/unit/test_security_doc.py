"""docs/SECURITY.md stays true to the code: every test it cites as evidence exists under that pytest node
id, and every file it names is there, so that renaming or deleting a piece of evidence fails the suite."""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "SECURITY.md"
# tests/x/test_y.py::test_z or tests/x/test_y.py::TestClass::test_z, parameters in brackets allowed after it.
NODE_ID = re.compile(r"(tests/[\w/]+\.py)::(\w+)(?:::(\w+))?(?:\[[^\]\s`]*\])?")
# A repository path written in backticks: `layers/common/smsbridge/adapters/http.py`, `local/console.py`.
FILE = re.compile(r"`((?:layers|functions|local|tests|console|docs|bench|\.ci)/[\w./-]+?|template\.yaml|Makefile"
                  r"|requirements[\w.-]*\.(?:txt|in))(?:::[^`]*)?`")
# A module of the shared package written from inside it, as architecture.md does: `adapters/http.py`.
PACKAGE = ROOT / "layers" / "common" / "smsbridge"
PACKAGE_FILE = re.compile(r"`((?:adapters|core|services|models)/[\w./]+\.py|[a-z_]+\.py)`")


@functools.cache
def _text() -> str:
    return DOCUMENT.read_text(encoding="utf-8")


def _cited_tests() -> list[tuple[str, str, str | None]]:
    return sorted(set(NODE_ID.findall(_text())), key=lambda found: (found[0], found[1], found[2] or ""))


@functools.cache
def _defined(path: str) -> frozenset[str]:
    """The test functions a file defines: `name` at the top level, `Class::name` inside a class."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef))
    return frozenset(names)


def test_given_the_security_document_then_it_cites_tests_for_its_threats() -> None:
    # A pattern that silently matched nothing would make the next test pass on any document.
    assert len(_cited_tests()) >= 50
    assert "## " in _text()


@pytest.mark.parametrize(("path", "first", "second"), _cited_tests(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_given_a_test_cited_as_evidence_then_its_file_defines_it(path: str, first: str, second: str) -> None:
    assert (ROOT / path).is_file(), f"{path} (cited in docs/SECURITY.md) does not exist"
    name = f"{first}::{second}" if second else first
    assert name.startswith(("test_", "Test")), f"{path}::{name} is not a test"
    assert name in _defined(path), f"{path} defines no {name} (cited in docs/SECURITY.md)"


def test_given_the_files_the_document_names_then_each_exists() -> None:
    named = sorted(set(FILE.findall(_text())))

    in_package = sorted(set(PACKAGE_FILE.findall(_text())))

    assert named and in_package, "the document names no file of the project"
    assert [path for path in named if not (ROOT / path.rstrip("/")).exists()] == []
    assert [path for path in in_package if not (PACKAGE / path).is_file()] == []


def test_given_the_count_of_cited_tests_the_document_gives_then_it_is_the_count_its_command_runs() -> None:
    # The document's command collects `tests/....py::name` (brackets dropped, as grep -o does): the figure
    # written beside it must be that number.
    written = re.search(r"\((\d+) node ids", _text())
    collected = set(re.findall(r"tests/[a-z_/0-9]*\.py::[A-Za-z_0-9]*", _text()))

    assert written is not None
    assert int(written.group(1)) == len(collected)
