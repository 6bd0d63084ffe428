"""The OpenAPI documents tell what the routes answer (issue 15): each admin operation lists exactly the statuses
its route declares (no automatic 422 where nothing can be invalid), links lead to every route with a path
parameter, and the admin and webhook documents hold the methods template.yaml routes (what OPTIONS and a 405's
`Allow` list)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from local.template import ApiTrigger, Template

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_DOCUMENT = ROOT / "docs" / "openapi-webhooks.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def admin_document() -> dict[str, Any]:
    import api_handler

    return json.loads(api_handler.app.get_openapi_json_schema(title=api_handler.API_TITLE,
                                                              version=api_handler.API_VERSION))


@pytest.fixture(scope="module")
def routes() -> dict[str, set[tuple[str, str]]]:
    """template.yaml's API routes (method, path) by function: ApiFunction, InboundFunction."""
    template = Template.load(ROOT / "template.yaml", endpoint_url="http://127.0.0.1:1")
    return {function.logical_id: {(t.method, t.path) for t in function.triggers_of(ApiTrigger)}
            for function in template.functions}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): item[method] for path, item in document["paths"].items()
            for method in METHODS if method in item}


def test_given_the_admin_document_then_it_is_valid_openapi(admin_document) -> None:
    validate(admin_document)


def test_given_routes_without_parameters_or_body_then_they_declare_no_422(admin_document) -> None:
    for (method, path), operation in operations(admin_document).items():
        if not operation.get("parameters") and "requestBody" not in operation:
            assert "422" not in operation["responses"], (method, path)
    assert set(operations(admin_document)["GET", "/traffic"]["responses"]) == {"200", "403"}


def test_given_each_route_then_its_operation_lists_exactly_the_statuses_the_route_declares(admin_document) -> None:
    import api_handler

    app = api_handler.app
    for route in app._static_routes + app._dynamic_routes:
        if route.include_in_schema:
            operation = operations(admin_document)[route.method, route.openapi_path]
            assert {int(code) for code in operation["responses"]} == set(route.responses), route.openapi_path


def test_given_the_admin_document_then_powertools_validation_error_schemas_are_gone(admin_document) -> None:
    text = json.dumps(admin_document)

    assert "HTTPValidationError" not in text and "#/components/schemas/ValidationError\"" not in text


def test_given_the_links_then_each_names_an_operation_and_its_parameters(admin_document) -> None:
    by_ref = {f"#/paths/{path.replace('~', '~0').replace('/', '~1')}/{method.lower()}": operation
              for (method, path), operation in operations(admin_document).items()}
    links = [link for operation in operations(admin_document).values() for answer in operation["responses"].values()
             for link in answer.get("links", {}).values()]

    assert len(links) > 30
    for link in links:
        target = by_ref[link["operationRef"]]
        names = {parameter["name"] for parameter in target.get("parameters", [])}
        for name, expression in link["parameters"].items():
            assert name.rsplit(".", 1)[-1] in names, (link, name)
            assert expression.startswith("$") or name.startswith("query."), link
        assert "requestBody" not in link or "requestBody" in target, link


def test_given_every_route_with_a_path_parameter_then_a_link_leads_to_it(admin_document) -> None:
    targets = {link["operationRef"] for operation in operations(admin_document).values()
               for answer in operation["responses"].values() for link in answer.get("links", {}).values()}
    with_path_parameter = {f"#/paths/{path.replace('/', '~1')}/{method.lower()}"
                           for (method, path) in operations(admin_document) if "{" in path}

    assert len(with_path_parameter) == 13
    assert with_path_parameter - targets == set()


def test_given_the_template_then_the_admin_document_holds_exactly_the_api_functions_routes(admin_document,
                                                                                           routes) -> None:
    undocumented = {("GET", "/openapi.json"), ("GET", "/swagger")}  # the document and its viewer

    assert set(operations(admin_document)) == routes["ApiFunction"] - undocumented


def test_given_the_template_then_the_webhook_document_holds_exactly_the_public_routes(routes) -> None:
    document = json.loads(WEBHOOK_DOCUMENT.read_text())
    template = Template.load(ROOT / "template.yaml", endpoint_url="http://127.0.0.1:1")
    public = {(t.method, t.path) for f in template.functions for t in f.triggers_of(ApiTrigger) if t.is_public}

    validate(document)
    assert set(operations(document)) == public == routes["InboundFunction"]


def test_given_the_webhook_document_then_every_operation_declares_the_refusals_of_a_webhook() -> None:
    document = json.loads(WEBHOOK_DOCUMENT.read_text())

    for operation in operations(document).values():
        assert set(operation["responses"]) == {"200", "400", "401", "403", "404"}
