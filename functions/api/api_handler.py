"""Lambda handler of `api`: the admin routes of SPEC 7 (providers, preview and test, messages, consent, OpenAPI)."""
from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from pydantic import ValidationError

from smsbridge.adapters.store import ProviderNotFound
from smsbridge.models.api import (
    ApiError,
    CheckResult,
    ConsentUpdate,
    ConsentView,
    ImportCurlRequest,
    ImportCurlResult,
    MessageAccepted,
    MessageView,
    PreviewRequestView,
    ProviderList,
    TestSendResult,
)
from smsbridge.models.message import OutboundMessage
from smsbridge.observability import logger
from smsbridge.services.admin import BadRequest, Conflict, NotFound, ProviderDocument, field_errors
from smsbridge.wiring import admin_service

API_TITLE = "SMS Bridge admin API"
API_VERSION = "1.0.0"

app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(path="/swagger", title=API_TITLE, version=API_VERSION,
                   description="Manage SMS providers, preview and test them, queue and look up messages, "
                               "read and set consent. Secrets are never returned: they read as `**********`.")

ProviderId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="provider id")]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {"application/json": {"model": ApiError}}}
    for code, text in ((400, "bad request"), (404, "not found"), (422, "invalid input"))
}


# ---------------------------------------------------------------- messages

@app.post("/messages", summary="Queue a message", responses={202: {"description": "queued",
          "content": {"application/json": {"model": MessageAccepted}}}, **ERRORS})
def create_message(message: Annotated[OutboundMessage, Body()]) -> Response[MessageAccepted]:
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, admin_service().enqueue(message))


@app.get("/messages/<id>", summary="A message's status and history", responses=ERRORS)
def get_message(id: Annotated[str, Path(max_length=128)]) -> MessageView:  # noqa: A002 - the route's name
    return admin_service().message(id)


# ---------------------------------------------------------------- providers

@app.get("/providers", summary="List providers (secrets masked)")
def list_providers() -> ProviderList:
    return ProviderList(providers=admin_service().list_providers())


@app.post("/providers", summary="Create a provider", responses={201: {"description": "created"}, 409: {
    "description": "exists already"}, **ERRORS})
def create_provider(config: Annotated[ProviderDocument, Body()]) -> Response[dict[str, Any]]:
    return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, admin_service().create_provider(config))


@app.post("/providers/import-curl", summary="Draft a provider from a sample curl command", responses=ERRORS)
def import_curl(command: Annotated[ImportCurlRequest, Body()]) -> ImportCurlResult:
    return admin_service().import_curl(command)


@app.get("/providers/<provider>", summary="A provider (secrets masked)", responses=ERRORS)
def get_provider(provider: ProviderId) -> dict[str, Any]:
    return admin_service().provider(provider)


@app.put("/providers/<provider>", summary="Create or replace a provider; a secret given as the mask is kept",
         responses=ERRORS)
def put_provider(provider: ProviderId, config: Annotated[ProviderDocument, Body()]) -> Response[dict[str, Any]]:
    document, created = admin_service().replace_provider(provider, config)
    return Response(HTTPStatus.CREATED if created else HTTPStatus.OK, content_types.APPLICATION_JSON, document)


@app.delete("/providers/<provider>", summary="Delete a provider and its secrets", responses=ERRORS)
def delete_provider(provider: ProviderId) -> Response[None]:
    admin_service().delete_provider(provider)
    return Response(HTTPStatus.NO_CONTENT)


@app.post("/providers/<provider>/preview", summary="The exact HTTP request a message would be sent as",
          responses=ERRORS)
def preview(provider: ProviderId, message: Annotated[OutboundMessage, Body()]) -> PreviewRequestView:
    return admin_service().preview(provider, message)


@app.post("/providers/<provider>/test", summary="Check the provider's credentials or connection", responses=ERRORS)
def test_provider(provider: ProviderId) -> CheckResult:
    return admin_service().check(provider)


@app.post("/providers/<provider>/test-send", summary="Send one message now and show the provider's answer",
          responses=ERRORS)
def test_send(provider: ProviderId, message: Annotated[OutboundMessage, Body()]) -> TestSendResult:
    return admin_service().test_send(provider, message)


# ---------------------------------------------------------------- consent

@app.get("/consent/<provider>/<phone>", summary="A number's consent state and history", responses=ERRORS)
def get_consent(provider: ProviderId, phone: Annotated[str, Path(max_length=32)]) -> ConsentView:
    return admin_service().consent(provider, phone)


@app.put("/consent/<provider>/<phone>", summary="Opt a number in or out", responses=ERRORS)
def put_consent(provider: ProviderId, phone: Annotated[str, Path(max_length=32)],
                update: Annotated[ConsentUpdate, Body()]) -> ConsentView:
    return admin_service().set_consent(provider, phone, update.state)


# ---------------------------------------------------------------- OpenAPI

@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(HTTPStatus.OK, content_types.APPLICATION_JSON,
                    app.get_openapi_json_schema(title=API_TITLE, version=API_VERSION))


# ---------------------------------------------------------------- errors: JSON, 4xx for bad input

def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Response:
    return Response(status, content_types.APPLICATION_JSON,
                    ApiError(message=message, errors=errors).model_dump_json(exclude_none=True))


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    details = []
    for item in error.errors():
        if item.get("type") == "json_invalid":
            reason = (item.get("ctx") or {}).get("error") or "not JSON"
            return _error(HTTPStatus.BAD_REQUEST, f"the body is not valid JSON: {reason}")
        loc = [str(part) for part in item.get("loc", ())]
        details.append({"loc": ".".join(loc) or "body", "msg": item.get("msg", "invalid")})
    summary = "; ".join(f"{d['loc']}: {d['msg']}" for d in details[:5])
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: {summary}", details)


@app.exception_handler(ValidationError)
def _invalid_value(error: ValidationError) -> Response:
    details = field_errors(error)
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY,
                  "invalid: " + "; ".join(f"{d['loc']}: {d['msg']}" for d in details[:5]), details)


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_type(error: RequestUnsupportedContentType) -> Response:
    return _error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the body as application/json")


@app.exception_handler([ProviderNotFound, NotFound])
def _not_found(error: LookupError) -> Response:
    return _error(HTTPStatus.NOT_FOUND, str(error))


@app.exception_handler(BadRequest)
def _bad_request(error: BadRequest) -> Response:
    return _error(HTTPStatus.BAD_REQUEST, str(error))


@app.exception_handler(Conflict)
def _conflict(error: Conflict) -> Response:
    return _error(HTTPStatus.CONFLICT, str(error))


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    # The type only: an exception's text may quote a request, and requests carry secrets.
    logger.error("unexpected error", error_type=type(error).__name__)
    return _error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error: the request was not completed")


@app.not_found
def _no_route(error: NotFoundError) -> Response:
    return _error(HTTPStatus.NOT_FOUND, f"no route {app.current_event.http_method} {app.current_event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
