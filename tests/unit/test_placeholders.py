"""The placeholder grammar as a leaf module: the provider model checks templates without importing the renderer."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smsbridge.models.placeholders import PLACEHOLDER, Placeholder, check_placeholders, placeholder_of


def test_given_a_fresh_interpreter_when_a_provider_is_validated_then_no_module_it_loads_imports_models_back():
    # No import cycle: the model's validators must not pull in the renderer (which imports the models).
    # The one part of core/ the model does load is the inbound signature schemes, whose model classes
    # live beside their verification (one module per scheme); those import no smsbridge.models.
    code = ("import sys\n"
            "from smsbridge.models.provider import ProviderConfig\n"
            "ProviderConfig.model_validate({'id': 'p', 'request': {'url': 'https://x.example/{{to}}',\n"
            "    'body': {'text': '{{text}}'}}, 'auth': {'type': 'hmac', 'secret': 'k'}})\n"
            "print('\\n'.join(sorted(m.__file__ for n, m in sys.modules.items() if n.startswith('smsbridge.core'))))")

    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split()

    assert "smsbridge.core.render" not in " ".join(loaded).replace(os.sep, ".")
    assert loaded and all(f"{os.sep}core{os.sep}signatures{os.sep}" in path
                          or path.endswith(f"{os.sep}core{os.sep}__init__.py") for path in loaded)
    for path in loaded:
        with open(path, encoding="utf-8") as handle:
            assert not [line for line in handle if line.startswith(("import smsbridge.models", "from smsbridge.models"))], path


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
