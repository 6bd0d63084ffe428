"""Least privilege, proven locally: each function's IAM policy as SAM would deploy it, and a botocore
hook that checks every AWS call a function makes against it before the call is sent (docs/iam.md).

The policy comes from template.yaml translated by SAM's own translator (policy templates expanded,
event sources' grants added), its intrinsics resolved by `local.template.Template` to the local
resources' ARNs. The check knows which function is calling from a context variable that
`FunctionHost` (and the tests' in-process invokers) set for the duration of an invocation: calls
made outside any invocation (the runtime's own setup, SQS producers, users of the local runtime,
the tests' own boto3 calls) are not checked.
"""
from __future__ import annotations

import contextvars
import copy
import fnmatch
import functools
import hashlib
import importlib.abc
import importlib.machinery
import json
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.template import PARTITION, Template

log = logging.getLogger("local.iam")

# "0"/"off" turns the check off (debugging only: make test and make demo run with it on).
CHECK_ENV = "SMSBRIDGE_IAM_CHECK"
# A file to append each (function, action, resource) the functions used to: make iam-report.
RECORD_ENV = "SMSBRIDGE_IAM_RECORD"


def check_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(CHECK_ENV, "on").strip().lower() not in ("0", "off", "false", "no")


# ---------------------------------------------------------------- the policies, as SAM deploys them

# What the AWS managed policies SAM attaches grant (the AWS Managed Policy Reference,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<name>.html): only logs, X-Ray and
# what Lambda's own event source mappings use. Any other managed policy is reported and grants nothing here.
MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}],
    "AWSXrayWriteOnlyAccess": [
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                                       "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
         "Resource": "*"}],
    "service-role/AWSLambdaSQSQueueExecutionRole": [
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                       "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": "*"}],
    "service-role/AWSLambdaDynamoDBExecutionRole": [
        {"Effect": "Allow", "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                                       "dynamodb:ListStreams", "logs:CreateLogGroup", "logs:CreateLogStream",
                                       "logs:PutLogEvents"],
         "Resource": "*"}],
}

# Condition keys this check can evaluate; a statement with any other condition is not applied when it
# allows (the call is refused, loudly) and applied when it denies: never more access than AWS gives.
_KNOWN_CONDITION_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike",
                              "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}


def _pattern(text: str, *, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters (`/` and `:` included), `?` one character."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(f"^{body}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass(frozen=True)
class Statement:
    """One statement of a function's policy, its intrinsics resolved."""

    policy: str  # the policy it belongs to (SAM's `<Role>Policy<N>`, or a managed policy's name)
    effect: str  # Allow | Deny
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_action: bool = False
    not_resource: bool = False
    condition: Mapping[str, Any] = field(default_factory=dict)
    _action_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _resource_patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_action_patterns", tuple(_pattern(a, ignore_case=True) for a in self.actions))
        object.__setattr__(self, "_resource_patterns", tuple(_pattern(r, ignore_case=False) for r in self.resources))

    @classmethod
    def of(cls, policy: str, document: Mapping[str, Any]) -> Statement:
        action_key = "NotAction" if "NotAction" in document else "Action"
        resource_key = "NotResource" if "NotResource" in document else "Resource"
        return cls(policy=policy, effect=str(document.get("Effect", "Allow")),
                   actions=tuple(str(a) for a in _as_list(document.get(action_key))),
                   resources=tuple(str(r) for r in _as_list(document.get(resource_key))),
                   not_action=action_key == "NotAction", not_resource=resource_key == "NotResource",
                   condition=document.get("Condition") or {})

    def covers(self, action: str, resource: str) -> bool:
        action_matches = any(p.match(action) for p in self._action_patterns)
        resource_matches = any(p.match(resource) for p in self._resource_patterns)
        return (action_matches != self.not_action) and (resource_matches != self.not_resource)

    def condition_holds(self, context: Mapping[str, str]) -> bool | None:
        """True or False when every condition can be evaluated here, None when one cannot."""
        for operator, tests in self.condition.items():
            base = operator.split(":", 1)[-1].removesuffix("IfExists")
            if base not in _KNOWN_CONDITION_OPERATORS or not isinstance(tests, Mapping):
                return None
            for key, expected in tests.items():
                if key.lower() not in context:
                    return None
                actual = context[key.lower()]
                like = "Like" in base or base.startswith("Arn")
                matched = any((fnmatch.fnmatchcase(actual, str(e)) if like else actual == str(e))
                              for e in _as_list(expected))
                if matched == ("Not" in base):
                    return False
        return True


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed by <policy>", "no identity-based policy allows ...", "explicit deny in <policy>"


@dataclass(frozen=True)
class FunctionPolicy:
    """A function's effective identity policy: its role's statements and managed policies."""

    function: str  # logical id
    physical_name: str
    role: str
    statements: tuple[Statement, ...]
    unknown_managed: tuple[str, ...] = ()  # managed policy ARNs this check knows nothing of

    def decide(self, action: str, resource: str, context: Mapping[str, str] | None = None) -> Decision:
        """IAM's evaluation for one identity policy: an explicit deny wins, then any allow, else denied."""
        context = context or {}
        allowed_by = None
        for statement in self.statements:
            if not statement.covers(action, resource):
                continue
            holds = statement.condition_holds(context) if statement.condition else True
            if statement.effect == "Deny" and holds is not False:
                return Decision(False, f"with an explicit deny in {statement.policy}")
            if statement.effect == "Allow" and holds and allowed_by is None:
                allowed_by = statement.policy
        if allowed_by is not None:
            return Decision(True, f"allowed by {allowed_by}")
        return Decision(False, f"because no identity-based policy allows the {action} action")


def _offline_ready(document: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` leaves it: code in S3 (the translator refuses local folders)."""
    document = copy.deepcopy(document)
    for resource in document["Resources"].values():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = "s3://bucket/function.zip"
        if resource.get("Type") == "AWS::Serverless::LayerVersion" and "ContentUri" in properties:
            properties["ContentUri"] = "s3://bucket/layer.zip"
    return document


class _NoManagedPolicyNames:
    """SAM's translator asks IAM for the ARNs of managed policies named by name in `Policies`; none
    are looked up offline (a name it cannot map stays as it is written)."""

    def load(self) -> dict[str, str]:
        return {}


@functools.lru_cache(maxsize=8)
def _translated_roles(document_json: str) -> dict[str, dict[str, Any]]:
    """Function logical id → its role's `Policies` and `ManagedPolicyArns`, intrinsics unresolved.
    Cached in the process and on disk, by the template's text and the translator's version: importing
    the translator and translating cost about a second of CPU (ten under this machine's usual load),
    and every local runtime and test process would pay it."""
    from importlib.metadata import version

    key = hashlib.sha256(f"{version('aws-sam-translator')}\n{document_json}".encode()).hexdigest()[:24]
    cached = Path(tempfile.gettempdir()) / f"smsbridge-iam-roles-{key}.json"
    try:
        return json.loads(cached.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    roles = _translate_roles(document_json)
    partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(roles), encoding="utf-8")
        partial.replace(cached)  # whole or absent: another process may read it at any moment
    except OSError:
        log.debug("cannot cache the translated roles in %s", cached)
    return roles


def _translate_roles(document_json: str) -> dict[str, dict[str, Any]]:
    from samtranslator.translator.transform import transform

    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region, any
    try:
        translated = transform(_offline_ready(json.loads(document_json)), {}, _NoManagedPolicyNames())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
    resources = translated["Resources"]
    roles: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Lambda::Function":
            continue
        role_ref = (resource.get("Properties") or {}).get("Role")
        role_id = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
        role = resources.get(role_id) if role_id else None
        if role is None:
            roles[logical_id] = {"role": str(role_ref), "Policies": [], "ManagedPolicyArns": []}
            continue
        properties = role.get("Properties") or {}
        policies = list(properties.get("Policies") or [])
        # Policies attached to the role by their own resources count as well.
        for policy_id, other in resources.items():
            other_props = other.get("Properties") or {}
            if other.get("Type") == "AWS::IAM::Policy" and {"Ref": role_id} in (other_props.get("Roles") or []):
                policies.append({"PolicyName": policy_id, "PolicyDocument": other_props.get("PolicyDocument")})
        roles[logical_id] = {"role": role_id, "Policies": policies,
                             "ManagedPolicyArns": list(properties.get("ManagedPolicyArns") or [])}
    return roles


def function_policies(template: Template, *, secret_arn: Callable[[str], str] | None = None) -> dict[str, FunctionPolicy]:
    """Every function's effective policy, by logical id, resolved against `template`'s local resources.

    `secret_arn(name)` gives a secret's full ARN (with the random suffix Secrets Manager adds): a
    `!Ref` of a secret resolves to it in AWS, and a grant on the ARN without it matches nothing."""
    roles = _translated_roles(json.dumps(template.document, sort_keys=True, default=str))
    policies = {}
    for function_id, role in roles.items():
        if function_id not in template.resources:
            continue  # a function the template's conditions leave out
        statements: list[Statement] = []
        for policy in role["Policies"]:
            policy = template.resolve(_with_secret_arns(template, policy, secret_arn))
            if not policy:
                continue  # an !If that left the policy out
            for document in _as_list((policy.get("PolicyDocument") or {}).get("Statement")):
                statements.append(Statement.of(policy.get("PolicyName", "?"), document))
        unknown = []
        for arn in (_text_of(template.resolve(a)) for a in role["ManagedPolicyArns"]):
            name = arn.split(":policy/", 1)[-1]
            if name in MANAGED_POLICIES:
                statements.extend(Statement.of(name, d) for d in MANAGED_POLICIES[name])
            else:
                unknown.append(arn)
                log.warning("%s: managed policy %s is not known to the local IAM check: it grants nothing here",
                            function_id, arn)
        policies[function_id] = FunctionPolicy(function=function_id, physical_name=template.physical_name(function_id),
                                                role=role["role"], statements=tuple(statements),
                                                unknown_managed=tuple(unknown))
    return policies


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _with_secret_arns(template: Template, node: Any, secret_arn: Callable[[str], str] | None) -> Any:
    if secret_arn is None:
        return node
    if isinstance(node, list):
        return [_with_secret_arns(template, n, secret_arn) for n in node]
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in template.resources \
                and template.resource_type(node["Ref"]) == "AWS::SecretsManager::Secret":
            return secret_arn(template.physical_name(node["Ref"]))
        return {k: _with_secret_arns(template, v, secret_arn) for k, v in node.items()}
    return node


# ---------------------------------------------------------------- which action on which resource

# boto3's service names whose IAM prefix differs.
_IAM_PREFIX = {"sesv2": "ses", "dynamodbstreams": "dynamodb", "pinpoint-sms-voice-v2": "sms-voice"}
# Batch operations SQS authorises as the single one (https://docs.aws.amazon.com/AWSSimpleQueueService/
# latest/SQSDeveloperGuide/sqs-api-permissions-reference.html).
_SQS_BATCH = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage",
              "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}
# A transaction's items are authorised as the operations they stand for
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
_TRANSACT_ITEM = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                  "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_JSON_ERROR_CODE = {"dynamodb", "secretsmanager", "events", "sesv2", "sms-voice", "kms", "logs"}


@dataclass(frozen=True)
class CallSite:
    """Where the functions' resources live: how a name in a request becomes an ARN."""

    region: str
    account_id: str
    secret_arn: Callable[[str], str]

    def arn(self, service: str, rest: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{self.account_id}:{rest}"


def required_permissions(service: str, operation: str, params: Mapping[str, Any],
                         site: CallSite) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorises for one API call."""
    prefix = _IAM_PREFIX.get(service, service)
    if service == "dynamodb":
        return _dynamodb(operation, params, site)
    if service == "sqs":
        action = f"sqs:{_SQS_BATCH.get(operation, operation)}"
        if "QueueUrl" in params:
            return [(action, _queue_arn(str(params["QueueUrl"]), site))]
        if "QueueName" in params:
            return [(action, site.arn("sqs", str(params["QueueName"])))]
        return [(action, "*")]
    if service == "secretsmanager":
        name = params.get("SecretId", params.get("Name"))
        if name is None:
            return [(f"secretsmanager:{operation}", "*")]
        name = str(name)
        return [(f"secretsmanager:{operation}", name if name.startswith("arn:") else site.secret_arn(name))]
    if service == "events" and operation == "PutEvents":
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries") or []} or {"default"}
        return [("events:PutEvents", b if b.startswith("arn:") else site.arn("events", f"event-bus/{b}"))
                for b in sorted(buses)]
    if service in ("ses", "sesv2") and operation in ("SendEmail", "SendRawEmail", "SendTemplatedEmail",
                                                     "SendBulkTemplatedEmail", "SendBulkEmail"):
        source = params.get("SourceArn") or params.get("FromEmailAddressIdentityArn")
        if source:
            return [(f"ses:{operation}", str(source))]
        sender = str(params.get("Source") or params.get("FromEmailAddress") or "")
        address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
        return [(f"ses:{operation}", site.arn("ses", f"identity/{address}"))]
    # Everything else (cloudwatch:PutMetricData, sts, ses:GetSendQuota, ...) is authorised on "*".
    return [(f"{prefix}:{operation}", "*")]


def _queue_arn(url: str, site: CallSite) -> str:
    parts = [p for p in urlsplit(url).path.split("/") if p]
    account, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (site.account_id, parts[-1] if parts else url)
    return f"arn:{PARTITION}:sqs:{site.region}:{account}:{name}"


def _table_arn(name: str, site: CallSite, index: str | None = None) -> str:
    base = name if name.startswith("arn:") else site.arn("dynamodb", f"table/{name}")
    return f"{base}/index/{index}" if index else base


def _dynamodb(operation: str, params: Mapping[str, Any], site: CallSite) -> list[tuple[str, str]]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", _table_arn(t, site)) for t in sorted(params.get("RequestItems") or {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        needed: list[tuple[str, str]] = []
        for item in params.get("TransactItems") or []:
            for kind, detail in item.items():
                pair = (f"dynamodb:{_TRANSACT_ITEM.get(kind, kind)}", _table_arn(str(detail.get("TableName")), site))
                if pair not in needed:
                    needed.append(pair)
        return needed
    if "TableName" in params:
        index = params.get("IndexName") if operation in ("Query", "Scan") else None
        return [(f"dynamodb:{operation}", _table_arn(str(params["TableName"]), site, index))]
    return [(f"dynamodb:{operation}", "*")]


# ---------------------------------------------------------------- the check, on every botocore client

_current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("smsbridge_iam_function", default=None)


@contextmanager
def invocation(function: str | None) -> Iterator[None]:
    """Calls made inside are checked against `function`'s policy (logical id); None: not checked."""
    token = _current_function.set(function)
    try:
        yield
    finally:
        _current_function.reset(token)


def current_function() -> str | None:
    return _current_function.get()


class IamGuard:
    """Checks a function's AWS calls against its policy; one is active per process at a time."""

    def __init__(self, template: Template, secrets_client: Callable[[], Any] | None = None,
                 record_to: str | Path | None = None):
        self.template = template
        self._secrets_client = secrets_client
        self._secret_arns: dict[str, str] = {}
        self._policies: dict[str, FunctionPolicy] | None = None
        self._decisions: dict[tuple[str, str, str], Decision] = {}
        self._recorded: set[tuple[str, str, str]] = set()
        self._record_to = Path(record_to) if record_to else None
        self._lock = threading.Lock()
        self._record_lock = threading.Lock()
        self.site = CallSite(template.region, template.account_id, self.secret_arn)

    @property
    def policies(self) -> dict[str, FunctionPolicy]:
        # Built once the secrets the policies name exist (their ARNs carry a suffix): at the first call,
        # or ahead by `prepare`.
        if self._policies is None:
            with self._lock:
                if self._policies is None:
                    self._policies = function_policies(self.template, secret_arn=self.secret_arn)
        return self._policies

    def prepare(self) -> IamGuard:
        """Build the policies now, in the background, so that no invocation waits for them."""
        threading.Thread(target=lambda: self.policies, name="iam-policies", daemon=True).start()
        return self

    def secret_arn(self, name: str) -> str:
        """A secret's full ARN; one that does not exist (yet) as `name-??????`, the form AWS documents
        for grants on a secret by name: it matches only what a grant on the real ARN would."""
        if name in self._secret_arns:
            return self._secret_arns[name]
        if self._secrets_client is not None:
            with invocation(None):  # the check's own look-up is nobody's call
                try:
                    arn = self._secrets_client().describe_secret(SecretId=name)["ARN"]
                except Exception:  # noqa: BLE001 - not found (or not reachable): the suffix is unknown
                    arn = None
            if arn:
                self._secret_arns[name] = arn
                return arn
        return self.site.arn("secretsmanager", f"secret:{name}-??????")

    def check(self, function: str, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """Raises botocore's ClientError AccessDenied, as AWS would, when the policy refuses the call."""
        if service == "secretsmanager" and operation in ("DeleteSecret", "CreateSecret"):
            self._secret_arns.pop(str(params.get("SecretId", params.get("Name"))), None)
        for action, resource in required_permissions(service, operation, params, self.site):
            key = (function, action, resource)
            decision = self._decisions.get(key)
            if decision is None:
                policy = self.policies.get(function)
                decision = policy.decide(action, resource, {"aws:requestedregion": self.site.region}) \
                    if policy else Decision(False, "because the template declares no such function")
                self._decisions[key] = decision
            if self._record_to is not None and key not in self._recorded:
                self._record(key, decision)
            if not decision.allowed:
                self._refuse(function, service, operation, action, resource, decision)

    def _record(self, key: tuple[str, str, str], decision: Decision) -> None:
        with self._record_lock:
            if key in self._recorded:
                return
            self._recorded.add(key)
            line = json.dumps({"function": key[0], "action": key[1], "resource": key[2],
                               "allowed": decision.allowed})
            with open(self._record_to, "a", encoding="utf-8") as stream:  # type: ignore[arg-type]
                stream.write(line + "\n")

    def _refuse(self, function: str, service: str, operation: str, action: str, resource: str,
                decision: Decision) -> None:
        from botocore.exceptions import ClientError

        policy = self.policies.get(function)
        name = policy.physical_name if policy else function
        message = (f"User: arn:{PARTITION}:sts::{self.site.account_id}:assumed-role/{policy.role if policy else '?'}/"
                   f"{name} (function {function}) is not authorized to perform: {action} on resource: "
                   f"{resource} {decision.reason} (local IAM check, docs/iam.md)")
        log.error("AccessDenied: %s", message)
        code = "AccessDeniedException" if _IAM_PREFIX.get(service, service) in _JSON_ERROR_CODE else "AccessDenied"
        raise ClientError({"Error": {"Code": code, "Message": message},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)


_active: IamGuard | None = None
_installed = False


def _before_parameter_build(params: Mapping[str, Any], model: Any, **_: Any) -> None:
    function = _current_function.get()
    guard = _active
    if function is None or guard is None:
        return
    guard.check(function, model.service_model.service_name, model.name, params)


def install_hook() -> None:
    """Register the check on every botocore session created from now on (each client copies its
    session's handlers when it is made); boto3's default session is dropped so that the next one has it."""
    global _installed
    import boto3
    import botocore.handlers

    if _installed:
        return
    botocore.handlers.BUILTIN_HANDLERS.append(("before-parameter-build", _before_parameter_build))
    boto3.DEFAULT_SESSION = None
    _installed = True


@contextmanager
def guarding(guard: IamGuard | None) -> Iterator[IamGuard | None]:
    """`guard` active for the duration (None: no check), the previous one back after."""
    global _active
    install_hook()
    previous, _active = _active, guard
    try:
        yield guard
    finally:
        _active = previous


def activate(guard: IamGuard | None) -> None:
    global _active
    install_hook()
    _active = guard


# ---------------------------------------------------------------- handlers imported by tests

class HandlerInvocations(importlib.abc.MetaPathFinder):
    """Wraps each function's handler, as it is imported, so that a test calling
    `send_handler.lambda_handler(...)` itself runs it as an invocation of SendFunction."""

    def __init__(self, template: Template):
        self.handlers = {f.handler_module: (f.handler_function, f.logical_id) for f in template.functions}

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name not in self.handlers:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        execute, handlers = spec.loader.exec_module, self.handlers

        def exec_module(module: Any) -> None:
            execute(module)
            wrap_handler(module, *handlers[name])

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec

    def wrap_loaded(self) -> None:
        for module_name, (attribute, function) in self.handlers.items():
            if module_name in sys.modules:
                wrap_handler(sys.modules[module_name], attribute, function)


def wrap_handler(module: Any, attribute: str, function: str) -> None:
    handler = getattr(module, attribute, None)
    if handler is None or getattr(handler, "__iam_function__", None) == function:
        return

    @functools.wraps(handler)
    def invoked(event: Any, context: Any) -> Any:
        with invocation(function):
            return handler(event, context)

    invoked.__iam_function__ = function  # type: ignore[attr-defined]
    setattr(module, attribute, invoked)


def wrap_handlers_on_import(template: Template) -> None:
    """Install (once) the finder that wraps the template's handlers, and wrap those already imported."""
    finder = next((f for f in sys.meta_path if isinstance(f, HandlerInvocations)), None)
    if finder is None:
        finder = HandlerInvocations(template)
        sys.meta_path.insert(0, finder)
    else:
        finder.handlers.update(HandlerInvocations(template).handlers)
    finder.wrap_loaded()

