"""The deployed API as API Gateway receives it (template.yaml translated by SAM's own translator, offline):
every admin operation asks for IAM (SigV4), and the provider webhooks are the only public ones."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.sam_translation import translated_template

ROOT = Path(__file__).resolve().parents[2]
# The public routes of SPEC 7: each checks the provider's own signature in the inbound function.
WEBHOOK_OPERATIONS = {("/inbound/{provider}", "get"), ("/inbound/{provider}", "post"),
                      ("/status/{provider}", "get"), ("/status/{provider}", "post")}


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translated_template()


def _operations(translated: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, list]]]:
    found = {}
    for resource in translated["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            for path, operations in resource["Properties"]["Body"]["paths"].items():
                for method, operation in operations.items():
                    found[(path, method)] = operation.get("security")
    return found


def test_given_the_deployed_template_when_translated_then_every_admin_operation_requires_iam(translated) -> None:
    operations = _operations(translated)

    admin = {key: security for key, security in operations.items() if key not in WEBHOOK_OPERATIONS}
    assert len(admin) >= 20  # the admin routes of SPEC 7 are there to be checked
    assert {key for key, security in admin.items() if security != [{"AWS_IAM": []}]} == set()


def test_given_the_deployed_template_when_translated_then_only_the_four_webhook_operations_are_public(translated) -> None:
    operations = _operations(translated)

    public = {key for key, security in operations.items() if security != [{"AWS_IAM": []}]}
    assert public == WEBHOOK_OPERATIONS
    assert all(operations[key] == [{"NONE": []}] for key in WEBHOOK_OPERATIONS)


def test_given_the_deployed_template_then_no_other_kind_of_api_or_function_url_opens_a_way_around_iam(translated) -> None:
    kinds = {resource["Type"] for resource in translated["Resources"].values()}

    assert "AWS::ApiGatewayV2::Api" not in kinds  # an HTTP API would carry routes of its own
    assert "AWS::Lambda::Url" not in kinds  # a function URL is reachable without API Gateway
