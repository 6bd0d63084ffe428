"""The placeholder grammar as a leaf module: the provider model checks templates without importing the renderer."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smsbridge.models.placeholders import PLACEHOLDER, Placeholder, check_placeholders, placeholder_of


def test_given_a_fresh_interpreter_when_a_provider_is_validated_then_no_core_module_is_imported():
    # models/ sits under core/ (docs/architecture.md): the model's validators must not pull the renderer in
    code = ("import sys\n"
            "from smsbridge.models.provider import ProviderConfig\n"
            "ProviderConfig.model_validate({'id': 'p', 'request': {'url': 'https://x.example/{{to}}',\n"
            "    'body': {'text': '{{text}}'}}, 'auth': {'type': 'hmac', 'secret': 'k'}})\n"
            "print(sorted(m for m in sys.modules if m.startswith('smsbridge.core')))")

    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout

    assert imported.strip() == "[]"


def test_the_placeholders_module_imports_nothing_from_smsbridge():
    import smsbridge.models.placeholders as module

    with open(module.__file__, encoding="utf-8") as handle:
        imports = [line for line in handle if line.startswith(("import ", "from "))]

    assert imports and not [line for line in imports if "smsbridge" in line]


@pytest.mark.parametrize(("written", "expected"), [
    ("{{to}}", Placeholder("{{to}}", "to")),
    ("$$To", Placeholder("$$To", "to")),
    ("%MESSAGE%", Placeholder("%MESSAGE%", "text")),
    ("$$OrderRef", Placeholder("$$OrderRef", "vars.OrderRef")),
    ("{{secrets.apikey}}", Placeholder("{{secrets.apikey}}", "secrets.apikey")),
    ("{{is_unicode?unicode:text}}", Placeholder("{{is_unicode?unicode:text}}", "is_unicode", ("unicode", "text"))),
    ("{{ is_unicode ? 8 : }}", Placeholder("{{ is_unicode ? 8 : }}", "is_unicode", ("8", ""))),
])
def test_given_a_written_placeholder_when_read_then_its_canonical_name_and_choice(written, expected):
    assert placeholder_of(PLACEHOLDER.fullmatch(written)) == expected


def test_given_templates_with_unknown_names_when_checked_then_every_one_is_named_once():
    with pytest.raises(ValueError, match=r"unknown placeholders \{\{phone\}\}, \{\{secrets\.9x\}\}; known:"):
        check_placeholders(["{{phone}} {{to}}", "{{phone}}", "{{secrets.9x}}"])
