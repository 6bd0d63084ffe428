"""template.yaml's resources created in the AWS stand-in (moto), in dependency order: what
`local/template.py` resolved, turned into the create calls CloudFormation would make.

The template stays the single source of truth: a table, queue or bucket added there exists locally
with no change to `local/`.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.template import Template, cfn_text, cfn_true

log = logging.getLogger("local.resources")


@dataclass
class CreatedResources:
    """What exists in the AWS stand-in after `create_resources`, by logical id."""

    tables: dict[str, str] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # logical id → queue URL
    other: dict[str, str] = field(default_factory=dict)  # logical id → name or ARN
    skipped: dict[str, str] = field(default_factory=dict)  # logical id → type, not created locally
    email_identities: list[str] = field(default_factory=list)


def create_resources(template: Template, session: Any) -> CreatedResources:
    """Create every resource of the template that has a local meaning, in dependency order.

    `session` is a boto3 Session (or anything with `.client(name)`) pointed at the AWS stand-in.
    """
    created = CreatedResources()
    creators = {
        "AWS::DynamoDB::Table": _create_table,
        "AWS::Serverless::SimpleTable": _create_simple_table,
        "AWS::SQS::Queue": _create_queue,
        "AWS::SNS::Topic": _create_topic,
        "AWS::Events::EventBus": _create_event_bus,
        "AWS::SecretsManager::Secret": _create_secret,
        "AWS::SSM::Parameter": _create_parameter,
        "AWS::S3::Bucket": _create_bucket,
        "AWS::SES::EmailIdentity": _create_email_identity,
    }
    for logical_id in _dependency_order(template):
        kind = template.resource_type(logical_id)
        creator = creators.get(kind)
        if creator is None:
            created.skipped[logical_id] = kind
            continue
        creator(template, session, logical_id, created)
    for address in _sender_addresses(template):
        _verify_email(session, address, created)
    return created


def _dependency_order(template: Template) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(logical_id: str) -> None:
        if state.get(logical_id) == "done":
            return
        if state.get(logical_id) == "visiting":
            return  # a cycle (e.g. a function and its policy): the template order decides
        state[logical_id] = "visiting"
        resource = template.resources[logical_id]
        for dependency in sorted(template.references(resource.get("Properties") or {})):
            visit(dependency)
        for dependency in _as_list(resource.get("DependsOn")):
            if dependency in template.resources:
                visit(dependency)
        state[logical_id] = "done"
        order.append(logical_id)

    for logical_id in template.resources:
        visit(logical_id)
    return order


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _tags(template: Template, tags: Any) -> list[dict[str, str]]:
    tags = template.resolve(tags)
    if isinstance(tags, dict):
        return [{"Key": k, "Value": cfn_text(v)} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": cfn_text(t["Value"])} for t in tags or []]


def _create_table(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    props = template.resolve(template.properties(logical_id))
    name = template.physical_name(logical_id)
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    provisioned = props.get("ProvisionedThroughput")
    if request["BillingMode"] == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput(provisioned or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [_index(i, request["BillingMode"]) for i in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [
            {k: v for k, v in i.items() if k in ("IndexName", "KeySchema", "Projection")}
            for i in props["LocalSecondaryIndexes"]]
    if props.get("StreamSpecification"):
        request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if props.get("Tags"):
        request["Tags"] = _tags(template, props["Tags"])
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(**request)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and cfn_true(ttl.get("Enabled", False)):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "AttributeName": ttl["AttributeName"], "Enabled": True})
    created.tables[logical_id] = name


def _throughput(value: Mapping[str, Any]) -> dict[str, int]:
    return {"ReadCapacityUnits": int(value["ReadCapacityUnits"]), "WriteCapacityUnits": int(value["WriteCapacityUnits"])}


def _index(index: Mapping[str, Any], billing_mode: str) -> dict[str, Any]:
    result = {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
    if billing_mode == "PROVISIONED":
        result["ProvisionedThroughput"] = _throughput(
            index.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    return result


def _create_simple_table(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    props = template.resolve(template.properties(logical_id))
    key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
    attribute_type = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
    name = template.physical_name(logical_id)
    session.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": key["Name"], "AttributeType": attribute_type}],
        KeySchema=[{"AttributeName": key["Name"], "KeyType": "HASH"}])
    created.tables[logical_id] = name


_QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
                     "VisibilityTimeout", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope",
                     "FifoThroughputLimit", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
                     "SqsManagedSseEnabled", "RedrivePolicy", "RedriveAllowPolicy")


def _create_queue(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    props = template.resolve(template.properties(logical_id))
    attributes = {}
    for name in _QUEUE_ATTRIBUTES:
        if name in props:
            value = props[name]
            attributes[name] = json.dumps(value) if isinstance(value, dict) else cfn_text(value)
    answer = session.client("sqs").create_queue(QueueName=template.physical_name(logical_id), Attributes=attributes)
    url = answer["QueueUrl"]
    if url != template.queue_url(logical_id):
        log.warning("%s: the AWS stand-in named the queue %s, the template resolves it to %s",
                    logical_id, url, template.queue_url(logical_id))
    created.queues[logical_id] = url


def _create_topic(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    answer = session.client("sns").create_topic(Name=template.physical_name(logical_id))
    created.other[logical_id] = answer["TopicArn"]


def _create_event_bus(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    name = template.physical_name(logical_id)
    session.client("events").create_event_bus(Name=name)
    created.other[logical_id] = name


def _create_secret(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    props = template.resolve(template.properties(logical_id))
    name = template.physical_name(logical_id)
    secret = props.get("SecretString")
    if secret is None:
        import secrets as random_secrets

        secret = random_secrets.token_urlsafe(24)
    session.client("secretsmanager").create_secret(Name=name, SecretString=cfn_text(secret))
    created.other[logical_id] = name


def _create_parameter(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    props = template.resolve(template.properties(logical_id))
    name = template.physical_name(logical_id)
    session.client("ssm").put_parameter(Name=name, Value=cfn_text(props.get("Value", "")),
                                        Type=props.get("Type", "String"), Overwrite=True)
    created.other[logical_id] = name


def _create_bucket(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    name = template.physical_name(logical_id)
    session.client("s3").create_bucket(Bucket=name)
    created.other[logical_id] = name


def _create_email_identity(template: Template, session: Any, logical_id: str, created: CreatedResources) -> None:
    _verify_email(session, template.physical_name(logical_id), created)
    created.other[logical_id] = template.physical_name(logical_id)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _sender_addresses(template: Template) -> list[str]:
    """Every email address the functions may send from: moto, like SES in its sandbox, refuses
    a sender that was not verified first. Parameters and function variables that hold an
    address are taken as senders."""
    addresses: list[str] = []
    values: Iterable[Any] = list(template.parameters.values())
    for function in template.functions:
        values = [*values, *function.environment.values()]
    for value in values:
        if isinstance(value, str) and _EMAIL.match(value) and value not in addresses:
            addresses.append(value)
    return addresses


def _verify_email(session: Any, address: str, created: CreatedResources) -> None:
    ses = session.client("ses")
    if "@" in address:
        ses.verify_email_identity(EmailAddress=address)
        ses.verify_domain_identity(Domain=address.split("@", 1)[1])
    else:
        ses.verify_domain_identity(Domain=address)
    if address not in created.email_identities:
        created.email_identities.append(address)
