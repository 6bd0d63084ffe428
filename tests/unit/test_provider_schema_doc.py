"""docs/provider-schema.json is the JSON Schema of ProviderConfig: this test fails when it is stale.

Regenerate it with `SMSBRIDGE_WRITE_DOCS=1 .venv/bin/python -m pytest tests/unit/test_provider_schema_doc.py`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from smsbridge.models.provider import ProviderConfig

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "provider-schema.json"


def provider_schema_text() -> str:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **ProviderConfig.model_json_schema()}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def test_given_the_provider_model_when_its_schema_is_generated_then_docs_provider_schema_matches() -> None:
    expected = provider_schema_text()
    if os.environ.get("SMSBRIDGE_WRITE_DOCS"):
        SCHEMA_DOC.write_text(expected, encoding="utf-8")

    assert SCHEMA_DOC.read_text(encoding="utf-8") == expected, (
        "docs/provider-schema.json is stale: regenerate it with SMSBRIDGE_WRITE_DOCS=1 "
        ".venv/bin/python -m pytest tests/unit/test_provider_schema_doc.py")


def test_given_the_published_schema_when_checked_then_it_is_a_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(json.loads(SCHEMA_DOC.read_text(encoding="utf-8")))
