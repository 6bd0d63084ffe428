"""template.yaml as the local runtime sees it: the CloudFormation tags resolved, and the functions
and their triggers as plain values. `local/resources.py` creates its resources in the AWS stand-in.

The template stays the single source of truth: a table, queue or function added there shows up
locally with no change to `local/`.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("local.template")

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
DEFAULT_STACK_NAME = "smsbridge"


class TemplateError(ValueError):
    """The template uses something the local runtime cannot resolve."""


# ---------------------------------------------------------------- YAML with CloudFormation tags

class _CloudFormationLoader(yaml.SafeLoader):
    """YAML 1.1 as CloudFormation reads it: short tags become their long form, and unquoted
    dates stay text (CloudFormation has no date type)."""


_CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_short_tag(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_document(path: Path) -> dict[str, Any]:
    """The template as plain data, short tags (`!Ref X`) in their long form (`{"Ref": "X"}`)."""
    with open(path, encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return document


# ---------------------------------------------------------------- the functions and their triggers

# Invocations at once for an SQS event without ScalingConfig (Lambda starts at five pollers).
UNSET_CONCURRENCY = 5


@dataclass(frozen=True)
class SqsTrigger:
    """An SQS event source mapping (SAM `Type: SQS`)."""

    name: str
    queue_arn: str
    batch_size: int = 10
    batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True
    # ScalingConfig.MaximumConcurrency: invocations at once for this event. Without it Lambda scales
    # to the function's concurrency; the local poller then takes UNSET_CONCURRENCY.
    maximum_concurrency: int | None = None

    @property
    def concurrency(self) -> int:
        return self.maximum_concurrency or UNSET_CONCURRENCY

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class ApiTrigger:
    """An API Gateway route (SAM `Type: Api` for a REST API, `Type: HttpApi` for an HTTP API)."""

    name: str
    path: str
    method: str  # upper case, or ANY
    kind: str = "rest"  # "rest": payload 1.0; "http": payload 2.0
    stage: str = "Prod"
    binary_media_types: tuple[str, ...] = ()
    # Who may call it in AWS: "NONE" for a public route, else its authorizer (AWS_IAM, a named one).
    authorizer: str = "NONE"

    @property
    def is_public(self) -> bool:
        return self.authorizer == "NONE"


@dataclass(frozen=True)
class ScheduleTrigger:
    """An EventBridge rule schedule (`Schedule`) or EventBridge Scheduler schedule (`ScheduleV2`)."""

    name: str
    expression: str  # rate(...) or cron(...)
    input: str | None = None  # the JSON the function gets instead of the scheduled event
    enabled: bool = True
    kind: str = "Schedule"


@dataclass(frozen=True)
class DynamoDbTrigger:
    """A DynamoDB stream event source mapping (SAM `Type: DynamoDB`), run locally by `local/streams.py`."""

    name: str
    stream_arn: str  # as the template resolves it; the table's name is read from it
    batch_size: int = 100
    batching_window_s: float = 0.0
    starting_position: str = "TRIM_HORIZON"
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1  # -1: until the record expires, as Lambda
    on_failure_arn: str | None = None
    enabled: bool = True

    @property
    def table_name(self) -> str:
        return self.stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


Trigger = SqsTrigger | ApiTrigger | ScheduleTrigger | DynamoDbTrigger


@dataclass(frozen=True)
class FunctionSpec:
    """One `AWS::Serverless::Function`, Globals merged in and every value resolved."""

    logical_id: str
    physical_name: str
    code_uri: Path
    handler: str
    timeout_s: int = 3
    memory_mb: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    layer_paths: tuple[Path, ...] = ()
    triggers: tuple[Trigger, ...] = ()

    @property
    def name(self) -> str:
        """The short name used by the local routes: `SendFunction` → `send`."""
        return _short_name(self.logical_id)

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def handler_function(self) -> str:
        return self.handler.rsplit(".", 1)[1]

    def triggers_of(self, kind: type) -> list:
        return [t for t in self.triggers if isinstance(t, kind)]


def _short_name(logical_id: str) -> str:
    base = logical_id[: -len("Function")] if logical_id.endswith("Function") and logical_id != "Function" else logical_id
    return base.lower()


# ---------------------------------------------------------------- resolution of intrinsics

_NO_VALUE = object()  # Ref AWS::NoValue: the enclosing key or item disappears

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SSM::Parameter": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SES::EmailIdentity": "EmailIdentity",
}


class Template:
    """A SAM/CloudFormation template resolved for one local stack."""

    def __init__(self, document: dict[str, Any], *, root: Path, endpoint_url: str,
                 parameter_overrides: Mapping[str, str] | None = None, stack_name: str = DEFAULT_STACK_NAME,
                 region: str = REGION, account_id: str = ACCOUNT_ID):
        self.document = document
        self.root = root
        self.endpoint_url = endpoint_url.rstrip("/")
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.parameters = self._parameter_values(parameter_overrides or {})
        self._condition_values: dict[str, bool] = {}
        self.resources: dict[str, dict[str, Any]] = {
            logical_id: resource for logical_id, resource in document["Resources"].items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()

    @classmethod
    def load(cls, path: str | Path, **kwargs: Any) -> Template:
        path = Path(path).resolve()
        return cls(load_document(path), root=path.parent, **kwargs)

    # -------------------------------------------------------- parameters and conditions

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        declared = self.document.get("Parameters") or {}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise TemplateError(f"parameter override(s) not in the template: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default: give it with "
                                    f"SMSBRIDGE_PARAMETER_OVERRIDES='{name}=...'")
            allowed = spec.get("AllowedValues")
            if allowed is not None and str(value) not in {str(a) for a in allowed}:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            kind = str(spec.get("Type", "String"))
            if kind.startswith("List<") or kind == "CommaDelimitedList":
                value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            else:
                value = cfn_text(value)
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            conditions = self.document.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_values[name] = bool(self._evaluate_condition(conditions[name]))
        return self._condition_values[name]

    def _evaluate_condition(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (key, arg), = value.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return cfn_text(left) == cfn_text(right)
            if key == "Fn::Not":
                return not self._evaluate_condition(arg[0])
            if key == "Fn::And":
                return all(self._evaluate_condition(v) for v in arg)
            if key == "Fn::Or":
                return any(self._evaluate_condition(v) for v in arg)
        return bool(self.resolve(value))

    # -------------------------------------------------------- names, Ref and GetAtt

    def resource_type(self, logical_id: str) -> str:
        return self.resources[logical_id]["Type"]

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its name property resolved, or one made up the way
        CloudFormation would (`<stack>-<LogicalId>`), stable across runs."""
        if logical_id in self._names:
            return self._names[logical_id]
        if logical_id in self._naming:
            raise TemplateError(f"{logical_id}: its name refers to itself")
        self._naming.add(logical_id)
        try:
            kind = self.resource_type(logical_id)
            properties = self.properties(logical_id)
            prop = _NAME_PROPERTY.get(kind)
            if prop and properties.get(prop) is not None:
                name = cfn_text(self.resolve(properties[prop]))
            else:
                name = f"{self.stack_name}-{logical_id}"
                if kind == "AWS::S3::Bucket":
                    name = name.lower()
                if kind == "AWS::SQS::Queue" and cfn_true(self.resolve(properties.get("FifoQueue", False))):
                    name += ".fifo"
        finally:
            self._naming.discard(logical_id)
        self._names[logical_id] = name
        return name

    def arn(self, logical_id: str) -> str:
        kind = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        prefix = f"arn:{PARTITION}"
        where = f"{self.region}:{self.account_id}"
        return {
            "AWS::DynamoDB::Table": f"{prefix}:dynamodb:{where}:table/{name}",
            "AWS::Serverless::SimpleTable": f"{prefix}:dynamodb:{where}:table/{name}",
            "AWS::SQS::Queue": f"{prefix}:sqs:{where}:{name}",
            "AWS::SNS::Topic": f"{prefix}:sns:{where}:{name}",
            "AWS::Serverless::Function": f"{prefix}:lambda:{where}:function:{name}",
            "AWS::Lambda::Function": f"{prefix}:lambda:{where}:function:{name}",
            "AWS::Serverless::LayerVersion": f"{prefix}:lambda:{where}:layer:{name}:1",
            "AWS::Logs::LogGroup": f"{prefix}:logs:{where}:log-group:{name}:*",
            "AWS::Events::EventBus": f"{prefix}:events:{where}:event-bus/{name}",
            "AWS::Events::Rule": f"{prefix}:events:{where}:rule/{name}",
            "AWS::Scheduler::Schedule": f"{prefix}:scheduler:{where}:schedule/default/{name}",
            "AWS::SecretsManager::Secret": f"{prefix}:secretsmanager:{where}:secret:{name}",
            "AWS::SSM::Parameter": f"{prefix}:ssm:{where}:parameter/{name.lstrip('/')}",
            "AWS::S3::Bucket": f"{prefix}:s3:::{name}",
            "AWS::IAM::Role": f"{prefix}:iam::{self.account_id}:role/{name}",
            "AWS::CloudWatch::Alarm": f"{prefix}:cloudwatch:{where}:alarm:{name}",
        }.get(kind, f"{prefix}:{kind.split('::')[1].lower()}:{where}:{name}")

    def queue_url(self, logical_id: str) -> str:
        return f"{self.endpoint_url}/{self.account_id}/{self.physical_name(logical_id)}"

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region, "AWS::AccountId": self.account_id, "AWS::Partition": PARTITION,
            "AWS::StackName": self.stack_name, "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{self.region}:{self.account_id}:stack/"
                            f"{self.stack_name}/00000000-0000-0000-0000-000000000000",
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise TemplateError(f"Ref to unknown name {name!r}")
        kind = self.resource_type(name)
        if kind == "AWS::SQS::Queue":
            return self.queue_url(name)
        if kind in ("AWS::SNS::Topic", "AWS::Serverless::LayerVersion", "AWS::SecretsManager::Secret",
                    "AWS::Events::Rule"):
            return self.arn(name)
        if kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::ApiGateway::RestApi"):
            return f"local-{name.lower()}"
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(f"GetAtt of unknown resource {logical_id!r}")
        kind = self.resource_type(logical_id)
        if attribute == "Arn":
            return self.arn(logical_id)
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if kind in ("AWS::DynamoDB::Table",) and attribute == "StreamArn":
            return f"{self.arn(logical_id)}/stream/1970-01-01T00:00:00.000"
        if attribute in ("Name", "Id"):
            return self.physical_name(logical_id)
        if attribute == "RootResourceId":
            return "root"
        log.debug("GetAtt %s.%s has no local value: using a placeholder", logical_id, attribute)
        return f"{self.physical_name(logical_id)}.{attribute}"

    # -------------------------------------------------------- intrinsic functions

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by its local value."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(self._resolve(arg))
            if key.startswith("Fn::"):
                return self._function(key[4:], arg)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg)
        resolved = {k: self._resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _function(self, name: str, arg: Any) -> Any:
        if name == "GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else [self._resolve(a) for a in arg]
            return self.get_att(parts[0], ".".join(parts[1:]))
        if name == "Sub":
            template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            return self._sub(template, {k: self._resolve(v) for k, v in variables.items()})
        if name == "Join":
            separator, items = arg[0], self._resolve(arg[1])
            return separator.join(cfn_text(i) for i in items)
        if name == "Select":
            index, items = int(self._resolve(arg[0])), self._resolve(arg[1])
            return items[index]
        if name == "Split":
            separator, text = arg[0], self._resolve(arg[1])
            return cfn_text(text).split(separator)
        if name == "If":
            condition, when_true, when_false = arg
            return self._resolve(when_true if self.condition(condition) else when_false)
        if name in ("Equals", "And", "Or", "Not"):
            return self._evaluate_condition({f"Fn::{name}": arg})
        if name == "FindInMap":
            map_name, top, second = (self._resolve(a) for a in arg[:3])
            try:
                return self._resolve(self.document["Mappings"][map_name][top][second])
            except KeyError:
                if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                    return self._resolve(arg[3]["DefaultValue"])
                raise TemplateError(f"FindInMap: no {map_name}/{top}/{second}") from None
        if name == "Base64":
            import base64

            return base64.b64encode(cfn_text(self._resolve(arg)).encode()).decode()
        if name == "GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "ToJsonString":
            return json.dumps(self._resolve(arg), separators=(",", ":"))
        if name == "ImportValue":
            return f"imported-{cfn_text(self._resolve(arg))}"
        if name == "Length":
            return len(self._resolve(arg))
        raise TemplateError(f"Fn::{name} is not supported by the local runtime")

    _SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, template: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            expression = match.group(1).strip()
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return cfn_text(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return cfn_text(self.get_att(logical_id, attribute))
            return cfn_text(self.ref(expression))

        return self._SUB_VARIABLE.sub(replace, template)

    # -------------------------------------------------------- the model of the functions

    def globals_of(self, section: str) -> dict[str, Any]:
        return ((self.document.get("Globals") or {}).get(section)) or {}

    def function_properties(self, logical_id: str) -> dict[str, Any]:
        """A function's properties with Globals merged in, the way SAM merges them: maps key by
        key (the function wins), lists concatenated (Globals first), scalars replaced."""
        return _merge_globals(self.globals_of("Function"), self.properties(logical_id))

    @property
    def functions(self) -> list[FunctionSpec]:
        return [self.function(lid) for lid, r in self.resources.items() if r["Type"] == "AWS::Serverless::Function"]

    def function(self, logical_id: str) -> FunctionSpec:
        props = self.function_properties(logical_id)
        code_uri = props.get("CodeUri")
        handler = self.resolve(props.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{logical_id}: the local runtime needs a local CodeUri folder and a "
                                f"Handler of the form module.function")
        variables = self.resolve((props.get("Environment") or {}).get("Variables") or {})
        layer_paths = []
        for layer in props.get("Layers") or []:
            if isinstance(layer, dict) and set(layer) == {"Ref"} and layer["Ref"] in self.resources \
                    and self.resource_type(layer["Ref"]) == "AWS::Serverless::LayerVersion":
                content = self.root / str(self.properties(layer["Ref"]).get("ContentUri", "."))
                layer_paths.append(content.resolve())
        return FunctionSpec(
            logical_id=logical_id,
            physical_name=self.physical_name(logical_id),
            code_uri=(self.root / code_uri).resolve(),
            handler=handler,
            timeout_s=int(self.resolve(props.get("Timeout", 3))),
            memory_mb=int(self.resolve(props.get("MemorySize", 128))),
            environment={k: cfn_text(v) for k, v in variables.items()},
            layer_paths=tuple(layer_paths),
            triggers=tuple(t for name, event in (props.get("Events") or {}).items()
                           if (t := self._trigger(logical_id, name, event)) is not None),
        )

    def _trigger(self, function_id: str, name: str, event: dict[str, Any]) -> Trigger | None:
        kind = event.get("Type")
        props = self.resolve(event.get("Properties") or {})
        if kind == "SQS":
            return SqsTrigger(
                name=name, queue_arn=props["Queue"], batch_size=int(props.get("BatchSize", 10)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                enabled=cfn_true(props.get("Enabled", True)),
                maximum_concurrency=_maximum_concurrency(function_id, name, props.get("ScalingConfig")))
        if kind in ("Api", "HttpApi"):
            return self._api_trigger(name, kind, event, props)
        if kind == "DynamoDB":
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            return DynamoDbTrigger(
                name=name, stream_arn=str(props["Stream"]), batch_size=int(props.get("BatchSize", 100)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                starting_position=str(props.get("StartingPosition", "TRIM_HORIZON")),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                bisect_on_error=cfn_true(props.get("BisectBatchOnFunctionError", False)),
                maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                on_failure_arn=on_failure, enabled=cfn_true(props.get("Enabled", True)))
        if kind in ("Schedule", "ScheduleV2"):
            expression = props.get("Schedule") or props.get("ScheduleExpression")
            state = str(props.get("State", "ENABLED")).upper()
            enabled = cfn_true(props.get("Enabled", True)) and state == "ENABLED"
            payload = props.get("Input")
            return ScheduleTrigger(name=name, expression=str(expression), kind=kind, enabled=enabled,
                                   input=payload if payload is None or isinstance(payload, str) else json.dumps(payload))
        log.info("%s: event %s of type %s is not run locally", function_id, name, kind)
        return None

    def _api_trigger(self, name: str, kind: str, event: dict[str, Any], props: dict[str, Any]) -> ApiTrigger:
        api_props = self.globals_of("Api" if kind == "Api" else "HttpApi")
        raw = event.get("Properties") or {}
        api_ref = raw.get("RestApiId" if kind == "Api" else "ApiId")
        if isinstance(api_ref, dict) and api_ref.get("Ref") in self.resources:
            api_props = {**api_props, **self.properties(api_ref["Ref"])}
        api_props = self.resolve(api_props)
        stage = api_props.get("StageName") or ("Prod" if kind == "Api" else "$default")
        binary = tuple(str(t).replace("~1", "/") for t in api_props.get("BinaryMediaTypes") or ())
        # SAM: the event's Auth.Authorizer, else the API's DefaultAuthorizer; an API key asked for
        # protects a route too.
        route_auth, api_auth = props.get("Auth") or {}, api_props.get("Auth") or {}
        authorizer = str(route_auth.get("Authorizer") or api_auth.get("DefaultAuthorizer") or "NONE")
        if authorizer == "NONE" and cfn_true(route_auth.get("ApiKeyRequired", api_auth.get("ApiKeyRequired", False))):
            authorizer = "API_KEY"
        return ApiTrigger(name=name, path=props["Path"], method=str(props.get("Method", "ANY")).upper(),
                          kind="rest" if kind == "Api" else "http", stage=str(stage), binary_media_types=binary,
                          authorizer=authorizer)

    # -------------------------------------------------------- what the resources look like locally

    def resources_of(self, *kinds: str) -> list[str]:
        return [lid for lid, r in self.resources.items() if r["Type"] in kinds]

    @property
    def outputs(self) -> dict[str, Any]:
        outputs = {}
        for name, output in (self.document.get("Outputs") or {}).items():
            if "Condition" in output and not self.condition(output["Condition"]):
                continue
            outputs[name] = self.resolve(output.get("Value"))
        return outputs

    def references(self, value: Any) -> set[str]:
        """The logical ids of the resources `value` refers to (Ref, GetAtt, Sub)."""
        found: set[str] = set()

        def walk(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item)
            elif isinstance(node, dict):
                for key, arg in node.items():
                    if key == "Ref" and isinstance(arg, str):
                        found.add(arg)
                    elif key == "Fn::GetAtt":
                        found.add(arg.split(".")[0] if isinstance(arg, str) else arg[0])
                    elif key == "Fn::Sub":
                        text = arg if isinstance(arg, str) else arg[0]
                        found.update(m.split(".")[0] for m in self._SUB_VARIABLE.findall(text))
                        if not isinstance(arg, str):
                            walk(arg[1])
                    else:
                        walk(arg)

        walk(value)
        return {name for name in found if name in self.resources}


def _maximum_concurrency(function_id: str, event: str, scaling: Any) -> int | None:
    """`ScalingConfig.MaximumConcurrency`, checked as Lambda checks it (2 to 1,000)."""
    if not scaling or scaling.get("MaximumConcurrency") is None:
        return None
    value = scaling["MaximumConcurrency"]
    if isinstance(value, bool) or not str(value).strip().isdigit() or not 2 <= int(value) <= 1000:
        raise TemplateError(f"{function_id}: event {event}: ScalingConfig.MaximumConcurrency is {value!r}, "
                            "Lambda takes 2 to 1000")
    return int(value)


def _merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(global_props)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Mapping[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in ("Ref", "Condition") or any(k.startswith("Fn::") for k in value)


def cfn_text(value: Any) -> str:
    """A value as CloudFormation turns it into a string: booleans lower-case, lists and maps as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def cfn_true(value: Any) -> bool:
    """`true` as CloudFormation reads a boolean property: the boolean, or the string in any case."""
    return value is True or str(value).lower() == "true"
