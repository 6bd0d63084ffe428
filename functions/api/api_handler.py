"""Lambda handler of `api`: the admin routes of SPEC 7 (providers, preview and test, messages, consent, the console's routes, OpenAPI)."""
from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import Example
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from pydantic import ValidationError

from smsbridge.adapters.store import ProviderNotFound
from smsbridge.errors import BadRequest, Conflict, Invalid, NotFound, field_errors
from smsbridge.models.api import (
    ApiError,
    CancelRefused,
    CheckResult,
    ConsentUpdate,
    ConsentView,
    DeadLetterList,
    DraftPreview,
    DraftPreviewRequest,
    ImportCurlRequest,
    ImportCurlResult,
    InboundPage,
    MessageAccepted,
    MessagePage,
    MessageView,
    Meta,
    PresetDetail,
    PresetSummary,
    ProviderList,
    ProviderSummary,
    Redriven,
    RedriveRequest,
    SpendView,
    TestSendResult,
    TrafficStats,
    TrafficView,
    ValidationResult,
)
from smsbridge.models.callback import CallbackSecretView
from smsbridge.models.message import OutboundMessage
from smsbridge.models.routing import RoutingRules
from smsbridge.models.status import MessageStatus
from smsbridge.observability import logger
from smsbridge.services import catalog
from smsbridge.services.messages import NotCancelable
from smsbridge.services.providers import ProviderDocument
from smsbridge.wiring import (
    consent_desk,
    dead_letter_desk,
    inbox_desk,
    message_desk,
    provider_admin,
    provider_probe,
    routing_admin,
    spend_desk,
    traffic_board,
    traffic_report,
)

API_TITLE = "SMS Bridge admin API"
API_VERSION = "1.0.0"


class AdminApiResolver(APIGatewayRestResolver):
    """The REST resolver whose OpenAPI document lists, for each operation, the statuses its route declares.

    With `enable_validation`, Powertools adds its own 422 (`HTTPValidationError`) to every operation, even one
    without parameters or body that can never answer it. Every route here declares all it answers (`answers`),
    so the document keeps those and nothing else, for /openapi.json and Swagger UI alike."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        document = super().get_openapi_schema(**kwargs)
        for route in self._static_routes + self._dynamic_routes:
            if route.include_in_schema and route.responses:
                operation = getattr(document.paths[route.openapi_path], route.method.lower())
                operation.responses = {code: answer for code, answer in operation.responses.items()
                                       if int(code) in route.responses}
        # Powertools' own error schemas, once nothing refers to them (ValidationError last: the others use it).
        schemas = document.components.schemas if document.components else None
        for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
            if schemas is not None and name in schemas:
                others = {key: value for key, value in schemas.items() if key != name}
                referred = document.model_copy(update={"components": document.components.model_copy(
                    update={"schemas": others})}).model_dump_json(by_alias=True, exclude_none=True)
                if f'"#/components/schemas/{name}"' not in referred:
                    del schemas[name]
        return document


app = AdminApiResolver(enable_validation=True)


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """The resolver's request validation, reading a route's body as UTF-8 JSON and nothing else.

    Powertools would also parse form and multipart bodies (which the document does not offer), raise a
    bare ValueError on a multipart type without boundary and a UnicodeDecodeError on bytes that are not
    UTF-8: each was a 500. Here every body route refuses them before any parser runs."""

    def _get_body(self, app: APIGatewayRestResolver) -> Any:
        event = app.current_event
        content_type = event.headers.get("content-type")
        if content_type is not None:
            media_type, _, parameters = content_type.partition(";")
            charset = next((value.strip().strip('"').lower() for name, _, value in
                            (item.strip().partition("=") for item in parameters.split(";"))
                            if name.strip().lower() == "charset"), "utf-8")
            if media_type.strip().lower() != content_types.APPLICATION_JSON or charset not in ("utf-8", "utf8"):
                raise RequestUnsupportedContentType("send the body as application/json", errors=[])
        try:
            event.decoded_body  # noqa: B018 - decoded once here (cached), so that bad bytes are a 400
        except ValueError:  # UnicodeDecodeError, or base64 that does not decode
            raise BadRequest("the body is not UTF-8 text: send JSON encoded as UTF-8") from None
        try:
            return super()._get_body(app)
        except (RecursionError, ValueError) as error:  # nested too deeply, an integer of 5,000 digits
            raise BadRequest(f"the body is not JSON this API reads: {type(error).__name__}") from None


# Powertools keeps its request validation here and puts it first on every route; ours replaces it
# before any route is built (tests/unit/test_api_bodies.py proves it is the one in use).
app._request_validation_middleware = JsonBodyValidation()
app.enable_swagger(path="/swagger", title=API_TITLE, version=API_VERSION,
                   description="Manage SMS providers, preview and test them, queue and look up messages, "
                               "read and set consent. Secrets are never returned: they read as `**********`. "
                               "Deployed, API Gateway takes only calls signed with AWS Signature Version 4 by an "
                               "identity IAM allows (403 otherwise); OpenAPI has no scheme for SigV4, so none is "
                               "declared: a generated client signs its calls through its HTTP layer.")

ProviderId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="provider id")]
Limit = Annotated[int, Query(ge=1, le=200, description="items per page (default 50, at most 200)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="the `cursor` of the previous page")]
Since = Annotated[datetime | None, Query(description="ISO-8601; a time without offset is UTC")]
Until = Annotated[datetime | None, Query(description="ISO-8601; a time without offset is UTC")]
ProviderFilter = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="provider id")]
# What each error status means on this API; every route lists the ones it can answer (`answers`).
_ERROR_MEANINGS = {
    400: "the request cannot be done as asked: a body that is not JSON or not UTF-8, or a value refused for a "
         "reason the schema cannot say (a phone number that is not one, a range that holds no message)",
    403: "deployed: the call is not signed with SigV4 by an identity the API's IAM policy allows",
    404: "what the path (or the body) names does not exist",
    409: "the request clashes with what exists",
    415: "the body is not application/json (UTF-8)",
    422: "a parameter or a body field fails validation: `errors` says which",
}


def answers(status: int, description: str, *errors: int, conflict: str | None = None,
            links: dict[str, dict[str, Any]] | None = None) -> dict[int, dict[str, Any]]:
    """A route's `responses`: its success (schema from the route's return annotation; none for 204) and
    every error status it can answer, each an `ApiError`. 403 is always there (IAM, deployed)."""
    success: dict[str, Any] = {"description": description}
    if status == HTTPStatus.NO_CONTENT:
        success["content"] = {}
    if links:
        success["links"] = links
    documented = {status: success}
    for code in sorted({403, *errors}):
        meaning = conflict if code == HTTPStatus.CONFLICT and conflict else _ERROR_MEANINGS[code]
        documented[code] = {"description": meaning, "content": {"application/json": {"model": ApiError}}}
    return documented


BODY_ERRORS = (400, 415, 422)  # what any route with a JSON body can answer before it starts


def link_to(operation: str, body: Any = None, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to `operation` ("METHOD /path"), its parameters (and body) read from this exchange."""
    method, path = operation.split(" ", 1)
    pointer = path.replace("~", "~0").replace("/", "~1")
    link: dict[str, Any] = {"operationRef": f"#/paths/{pointer}/{method.lower()}", "parameters": parameters}
    if body is not None:
        link["requestBody"] = body
    return link


def provider_links(provider: str, *names: str) -> dict[str, dict[str, Any]]:
    """Links to the routes of one provider, its id read by the runtime expression `provider`."""
    routes = {"GetProvider": "GET /providers/{provider}", "ReplaceProvider": "PUT /providers/{provider}",
              "DeleteProvider": "DELETE /providers/{provider}",
              "PreviewWithProvider": "POST /providers/{provider}/preview",
              "TestProvider": "POST /providers/{provider}/test",
              "TestSendWithProvider": "POST /providers/{provider}/test-send",
              "ProviderSpend": "GET /providers/{provider}/spend"}
    return {name: link_to(routes[name], provider=provider) for name in names or routes}


def consent_links(provider: str, phone: str) -> dict[str, dict[str, Any]]:
    """Links to a number's consent, the provider and the number read by these runtime expressions."""
    return {"GetConsent": link_to("GET /consent/{provider}/{phone}", provider=provider, phone=phone),
            "SetConsent": link_to("PUT /consent/{provider}/{phone}", provider=provider, phone=phone)}


# The links of the document: from what creates or lists a resource to every route that takes its id, so that a
# client (and schemathesis's stateful phase) can go from one answer to the next call.
PROVIDER_LINKS = provider_links("$response.body#/id")
PROVIDER_LIST_LINKS = provider_links("$response.body#/providers/0/id", "GetProvider", "PreviewWithProvider",
                                     "TestProvider", "TestSendWithProvider", "ProviderSpend")
# A provider read back is a document PUT takes as it is: its masked secrets keep the stored ones.
PROVIDER_READ_LINKS = {"SaveAsRead": link_to("PUT /providers/{provider}", body="$response.body",
                                             provider="$request.path.provider"),
                       **provider_links("$request.path.provider", "DeleteProvider", "PreviewWithProvider",
                                        "TestProvider", "TestSendWithProvider", "ProviderSpend")}
MESSAGE_LINKS = {"GetMessage": link_to("GET /messages/{id}", id="$response.body#/id"),
                 "CancelMessage": link_to("DELETE /messages/{id}", id="$response.body#/id"),
                 **consent_links("$request.body#/provider", "$request.body#/to")}
MESSAGE_LIST_LINKS = {"GetNewestMessage": link_to("GET /messages/{id}", id="$response.body#/items/0/id"),
                      "CancelNewestMessage": link_to("DELETE /messages/{id}", id="$response.body#/items/0/id"),
                      # Only scheduled messages can be canceled: the list of them leads to a cancel that works.
                      "ScheduledMessages": link_to("GET /messages", **{"query.status": "scheduled"}),
                      **consent_links("$response.body#/items/0/provider", "$response.body#/items/0/to")}
MESSAGE_READ_LINKS = {"CancelMessage": link_to("DELETE /messages/{id}", id="$response.body#/id"),
                      **consent_links("$response.body#/provider", "$response.body#/to"),
                      **provider_links("$response.body#/provider", "GetProvider")}
CANCELED_LINKS = {"GetMessage": link_to("GET /messages/{id}", id="$response.body#/id")}
CONSENT_LINKS = consent_links("$request.path.provider", "$request.path.phone")
INBOUND_LIST_LINKS = consent_links("$response.body#/items/0/provider", "$response.body#/items/0/from")
DEAD_LETTER_LINKS = {"DeleteNewestDeadLetter": link_to("DELETE /dead-letters/{id}", id="$response.body#/items/0/id"),
                     "RedriveNewestDeadLetter": link_to("POST /dead-letters/redrive",
                                                        body={"ids": ["$response.body#/items/0/id"]})}
PRESET_LIST_LINKS = {"GetFirstPreset": link_to("GET /presets/{name}", name="$response.body#/0/name")}

# Examples of every request body (the document's and Swagger UI's), each one the API accepts.
MESSAGE_EXAMPLE = {"to": "+33612345678", "text": "Your code is 1234", "sender": "ACME", "type": "NOTIFICATION"}
PROVIDER_EXAMPLE = {
    "id": "acme", "name": "ACME SMS", "default_sender": "ACME",
    "request": {"url": "https://sms.example.com/v1/messages", "method": "POST", "content_type": "json",
                "body": {"to": "{{to}}", "from": "{{sender}}", "text": "{{text}}"}},
    "auth": {"type": "api_key", "header": "Authorization", "prefix": "Bearer ", "token": "{{secrets.TOKEN}}"},
    "secrets": {"TOKEN": "replace-me"},
    "response": {"message_id_jmespath": "id"}}
MessageBody = Annotated[OutboundMessage, Body(openapi_examples={
    "notification": Example(summary="a one-time code", value=MESSAGE_EXAMPLE),
    "marketing": Example(summary="marketing, with a campaign and metadata echoed in status events", value={
        "to": "+447700900123", "text": "Sale starts now", "type": "MARKETING", "sender": "ACME",
        "campaign_id": "spring", "metadata": {"order": 42}})})]
ProviderBody = Annotated[ProviderDocument, Body(openapi_examples={
    "from_scratch": Example(summary="a JSON API with a bearer token", value=PROVIDER_EXAMPLE),
    "from_preset": Example(summary="a preset, its credentials filled in", value={
        "id": "twilio-main", "preset": "twilio", "default_sender": "+15005550006",
        "auth": {"type": "basic", "username": "AC0123456789abcdef0123456789abcdef", "password": "auth-token"},
        "request": {"url": "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/"
                           "Messages.json"}})})]


# ---------------------------------------------------------------- messages

@app.post("/messages", summary="Queue a message",
          responses=answers(202, "queued: its id", 404, *BODY_ERRORS, links=MESSAGE_LINKS))
def create_message(message: MessageBody) -> Response[MessageAccepted]:
    return Response(HTTPStatus.ACCEPTED, content_types.APPLICATION_JSON, message_desk().enqueue(message))


@app.get("/messages", summary="Search messages, newest first (by index: phone, or time with status and provider)",
         responses=answers(200, "one page of messages", 400, 422, links=MESSAGE_LIST_LINKS))
def search_messages(phone: Annotated[str | None, Query(max_length=32, description="any form; E.164 after")] = None,
                    status: Annotated[MessageStatus | None, Query()] = None, provider: ProviderFilter = None,
                    since: Since = None, until: Until = None, limit: Limit = 50, cursor: Cursor = None) -> MessagePage:
    return message_desk().search(phone=phone, status=status, provider=provider, since=_utc(since, "since"),
                                 until=_utc(until, "until"), limit=limit, cursor=cursor)


@app.get("/messages/<id>", summary="A message's status and history",
         responses=answers(200, "the message", 404, 422, links=MESSAGE_READ_LINKS))
def get_message(id: Annotated[str, Path(max_length=128)]) -> MessageView:  # noqa: A002 - the route's name
    return message_desk().get(id)


@app.delete("/messages/<id>", summary="Cancel a scheduled message (it becomes `canceled` and is never sent)",
            responses={**answers(200, "canceled: the message with its history", 404, 422, links=CANCELED_LINKS),
                       409: {"description": "the message is no longer scheduled (queued, sent or final); "
                                            "`status` says what it is",
                             "content": {"application/json": {"model": CancelRefused}}}})
def cancel_message(id: Annotated[str, Path(max_length=128)]) -> MessageView:  # noqa: A002 - the route's name
    return message_desk().cancel(id)


@app.get("/inbound-messages", summary="SMS received that were not keywords, newest first",
         responses=answers(200, "one page of inbound messages", 400, 422, links=INBOUND_LIST_LINKS))
def inbound_messages(since: Since = None, limit: Limit = 50, cursor: Cursor = None) -> InboundPage:
    return inbox_desk().newest(since=_utc(since, "since"), limit=limit, cursor=cursor)


# ---------------------------------------------------------------- dead letters

@app.get("/dead-letters", summary="What is in the dead-letter queue, and why (left in the queue)",
         responses=answers(200, "the dead letters", 422, links=DEAD_LETTER_LINKS))
def list_dead_letters(limit: Limit = 50) -> DeadLetterList:
    return dead_letter_desk().list(limit)


@app.post("/dead-letters/redrive", summary="Put dead letters back on the outbound queue, as they were",
          responses=answers(200, "how many went back", *BODY_ERRORS))
def redrive_dead_letters(request: Annotated[RedriveRequest, Body(openapi_examples={
        "some": Example(summary="these dead letters", value={"ids": ["a1b2c3"]}),
        "all": Example(summary="every dead letter", value={"all": True})})]) -> Redriven:
    if (request.ids is None) == (not request.all):
        raise BadRequest("give either `ids` (a list) or `all`: true")
    return dead_letter_desk().redrive(None if request.all else request.ids)


@app.delete("/dead-letters/<id>", summary="Delete one dead letter", responses=answers(204, "deleted", 404, 422))
def delete_dead_letter(id: Annotated[str, Path(max_length=100)]) -> Response[None]:  # noqa: A002 - the route's name
    dead_letter_desk().delete(id)
    return Response(HTTPStatus.NO_CONTENT)


# ---------------------------------------------------------------- overview

@app.get("/stats", summary="Messages by status over a range (default: the last 24 hours), over time, and balances",
         responses=answers(200, "counts, series and balances", 400, 404, 422))
def stats(since: Since = None, until: Until = None, provider: ProviderFilter = None) -> TrafficStats:
    return traffic_report().stats(since=_utc(since, "since"), until=_utc(until, "until"), provider=provider)


@app.get("/traffic", summary="Each provider's throughput (limit, granted in the last second, pause) and circuit "
         "(state, consecutive failures, when it opened and when it half-opens)",
         responses=answers(200, "every provider's shared traffic state"))
def traffic() -> TrafficView:
    return traffic_board().report()


# ---------------------------------------------------------------- providers

@app.get("/providers", summary="List providers (secrets masked)",
         responses=answers(200, "every provider", links=PROVIDER_LIST_LINKS))
def list_providers() -> ProviderList:
    return ProviderList(providers=provider_admin().list())


@app.get("/providers/<provider>/spend", summary="The provider's segments this calendar month (UTC) against its "
         "spend_limit, and the 80 % and 100 % emails sent",
         responses=answers(200, "the month's count", 404, 422))
def provider_spend(provider: ProviderId) -> SpendView:
    return spend_desk().report(provider)


@app.get("/providers/summary", summary="Each provider's health: last send, balance, failures in the last hour",
         responses=answers(200, "one summary per provider"))
def providers_summary() -> list[ProviderSummary]:
    return traffic_report().provider_summary()


@app.post("/providers/validate", summary="Validate an unsaved provider document (its preset merged); stores nothing",
          responses=answers(200, "whether saving would take it, and why not, field by field", *BODY_ERRORS))
def validate_provider(document: Annotated[dict[str, Any], Body(openapi_examples={
        "draft": Example(summary="a draft as the console edits it", value=PROVIDER_EXAMPLE)})]) -> ValidationResult:
    return provider_admin().validate(document)


@app.post("/providers/preview", summary="The exact request an unsaved provider draft would send, and the text's "
          "encoding", responses=answers(200, "the request, secrets masked, and the text's encoding", *BODY_ERRORS))
def preview_draft(request: Annotated[DraftPreviewRequest, Body(openapi_examples={
        "draft": Example(summary="a draft and a message", value={"provider": PROVIDER_EXAMPLE,
                                                                  "message": MESSAGE_EXAMPLE})})]) -> DraftPreview:
    draft = provider_admin().draft(request.provider, loc_prefix="body.provider")
    return provider_probe().preview_draft(draft, request.message)


@app.get("/presets", summary="The provider presets, with their sources and the fields each leaves to fill",
         responses=answers(200, "every preset", links=PRESET_LIST_LINKS))
def list_presets() -> list[PresetSummary]:
    return catalog.preset_summaries()


@app.get("/presets/<name>", summary="One preset and its document", responses=answers(200, "the preset", 404, 422))
def get_preset(name: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]) -> PresetDetail:
    return catalog.preset_detail(name)


@app.get("/meta", summary="Placeholders, auth types, statuses and the provider schema, for forms",
         responses=answers(200, "what the console's forms are built from"))
def meta() -> Meta:
    return catalog.meta()


@app.post("/providers", summary="Create a provider",
          responses=answers(201, "created: the provider, secrets masked", 400, 409, *BODY_ERRORS,
                            conflict="a provider with this id exists already: PUT it to change it", links=PROVIDER_LINKS))
def create_provider(config: ProviderBody) -> Response[dict[str, Any]]:
    return Response(HTTPStatus.CREATED, content_types.APPLICATION_JSON, provider_admin().create(config))


@app.post("/providers/import-curl", summary="Draft a provider from a sample curl command",
          responses=answers(200, "the draft, what was recognised, and whether it is valid (and saved)", 409,
                            *BODY_ERRORS, conflict="`save`: a provider with this id exists already"))
def import_curl(command: Annotated[ImportCurlRequest, Body(openapi_examples={
        "twilio": Example(summary="Twilio's documented sample", value={
            "curl": "curl -X POST https://api.twilio.com/2010-04-01/Accounts/$TWILIO_ACCOUNT_SID/Messages.json "
                    "--data-urlencode 'To=+15558675310' --data-urlencode 'From=+15017122661' "
                    "--data-urlencode 'Body=Hi there' -u $TWILIO_ACCOUNT_SID:$TWILIO_AUTH_TOKEN"})})]) -> ImportCurlResult:
    return provider_admin().import_curl(command)


@app.get("/providers/<provider>", summary="A provider (secrets masked)",
         responses=answers(200, "the provider", 404, 422, links=PROVIDER_READ_LINKS))
def get_provider(provider: ProviderId) -> dict[str, Any]:
    return provider_admin().get(provider)


@app.put("/providers/<provider>", summary="Create or replace a provider; a secret given as the mask is kept",
         responses={**answers(200, "replaced: the provider, secrets masked", 400, 404, *BODY_ERRORS,
                              links=PROVIDER_LINKS),
                    201: {"description": "created: the provider, secrets masked", "links": PROVIDER_LINKS}})
def put_provider(provider: ProviderId, config: ProviderBody) -> Response[dict[str, Any]]:
    document, created = provider_admin().replace(provider, config)
    return Response(HTTPStatus.CREATED if created else HTTPStatus.OK, content_types.APPLICATION_JSON, document)


@app.delete("/providers/<provider>", summary="Delete a provider and its secrets",
            responses=answers(204, "deleted", 404, 422))
def delete_provider(provider: ProviderId) -> Response[None]:
    provider_admin().delete(provider)
    return Response(HTTPStatus.NO_CONTENT)


@app.post("/providers/<provider>/preview", summary="The exact HTTP request a message would be sent as",
          responses=answers(200, "the request, secrets masked, and the text's encoding", 404, *BODY_ERRORS))
def preview(provider: ProviderId, message: MessageBody) -> DraftPreview:
    return provider_probe().preview(provider, message)


@app.post("/providers/<provider>/test", summary="Check the provider's credentials or connection",
          responses=answers(200, "what was checked and how it went", 404, 422))
def test_provider(provider: ProviderId) -> CheckResult:
    return provider_probe().check(provider)


@app.post("/providers/<provider>/test-send", summary="Send one message now and show the provider's answer",
          responses=answers(200, "the message's outcome and the provider's answer, secrets masked", 404, 409,
                            *BODY_ERRORS, conflict="a message with this `id` exists already: leave `id` out"))
def test_send(provider: ProviderId, message: MessageBody) -> TestSendResult:
    return provider_probe().test_send(provider, message)


# ---------------------------------------------------------------- routing

@app.get("/routing", summary="The routing rules, in order: the first that matches a message chooses its provider",
         responses=answers(200, "the rules, in order"))
def get_routing() -> RoutingRules:
    return routing_admin().get()


@app.put("/routing", summary="Replace the routing rules (every provider they name must exist)",
         responses=answers(200, "the rules as stored", *BODY_ERRORS))
def put_routing(rules: Annotated[RoutingRules, Body(openapi_examples={
        "india": Example(summary="Indian marketing through another provider", value={"rules": [
            {"match": {"countries": ["IN"], "type": "MARKETING"}, "provider": "sandbox", "sender": "ACME"}]}),
        "none": Example(summary="no rules: the default provider sends everything", value={"rules": []})})]) -> RoutingRules:
    return routing_admin().replace(rules)


# ---------------------------------------------------------------- consent

@app.get("/consent/<provider>/<phone>", summary="A number's consent state and history",
         responses=answers(200, "the number's state and history", 400, 404, 422, links=CONSENT_LINKS))
def get_consent(provider: ProviderId, phone: Annotated[str, Path(max_length=32)]) -> ConsentView:
    return consent_desk().get(provider, phone)


@app.put("/consent/<provider>/<phone>", summary="Opt a number in or out",
         responses=answers(200, "the number's state and history", 404, *BODY_ERRORS, links=CONSENT_LINKS))
def put_consent(provider: ProviderId, phone: Annotated[str, Path(max_length=32)],
                update: Annotated[ConsentUpdate, Body(openapi_examples={
                    "opt_out": Example(summary="an operator records an opt-out", value={
                        "state": "opted_out", "reason": "asked by phone"})})]) -> ConsentView:
    return consent_desk().set(provider, phone, update.state, update.reason)


# ---------------------------------------------------------------- status callbacks (SPEC 10)

@app.get("/callback-secret", summary="The key that signs status callbacks (X-SmsBridge-Signature; docs/callbacks.md)",
         responses=answers(200, "the key"))
def get_callback_secret() -> CallbackSecretView:
    from smsbridge.wiring import callback_secret

    return CallbackSecretView(secret=callback_secret().value())


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


@app.exception_handler(Invalid)
def _invalid_document(error: Invalid) -> Response:
    return _error(HTTPStatus.UNPROCESSABLE_ENTITY, str(error), error.errors)


@app.exception_handler(BadRequest)
def _bad_request(error: BadRequest) -> Response:
    return _error(HTTPStatus.BAD_REQUEST, str(error))


@app.exception_handler(NotCancelable)
def _not_cancelable(error: NotCancelable) -> Response:
    return Response(HTTPStatus.CONFLICT, content_types.APPLICATION_JSON,
                    CancelRefused(message=str(error), status=error.status).model_dump_json())


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


# Times a query may name: anything outside cannot hold a message, and would overflow date arithmetic.
_EARLIEST, _LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def _utc(moment: datetime | None, name: str) -> datetime | None:
    """A query's time; one written without an offset is read as UTC."""
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    if not _EARLIEST <= moment < _LATEST:
        raise BadRequest(f"{name}: give a time between 2000 and 2100")
    return moment


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context) -> dict:
    return app.resolve(event, context)
