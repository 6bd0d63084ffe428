"""template.yaml's hardening (issue 13): every check checkov is told to skip is explained beside its
resource, the API stage keeps access logs without query strings, the public webhook function has a
concurrency of its own and an alarm on its throttles, the tables that hold people's data can be
restored to a point in time, every dead-letter queue and the callback queue raise an alarm that
reaches someone; and the local runtime guards exactly the routes AWS guards with IAM."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.template import Template, load_document
from tests.support.sam_translation import ROOT, TEMPLATE, api_operations, translated_template

CHECK_ID = re.compile(r"CKV2?_AWS_\d+")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return load_document(TEMPLATE)


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    return translated_template()


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def _alarms(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in _of_type(resources, "AWS::CloudWatch::Alarm").values()]


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    return next((d["Value"] for d in alarm.get("Dimensions") or [] if d["Name"] == name), None)


# ---------------------------------------------------------------- checkov's skips

def test_given_the_template_when_checkov_is_told_to_skip_a_check_then_the_reason_is_written_beside_the_resource(
        document: dict[str, Any]) -> None:
    skips = [(name, skip) for name, resource in document["Resources"].items()
             for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip") or []]

    assert len(skips) >= 40  # the skips are read where checkov reads them (Metadata.checkov.skip)
    unexplained = [(name, skip) for name, skip in skips
                   if not CHECK_ID.fullmatch(str(skip.get("id", ""))) or len(str(skip.get("comment", "")).split()) < 8]
    assert unexplained == []
    assert len({(name, skip["id"]) for name, skip in skips}) == len(skips)  # no check skipped twice on one resource


def test_given_the_ci_when_checkov_runs_then_no_check_is_skipped_outside_the_template() -> None:
    # A --skip-check on the command line (or a config file) would skip a check for every resource, unexplained.
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    checkov_lines = [line for line in makefile.splitlines() if "checkov/bin/checkov" in line]

    assert checkov_lines, "make checkov runs checkov"
    assert not any(flag in makefile for flag in ("--skip-check", "--soft-fail", "--config-file"))
    assert not (ROOT / ".checkov.yaml").exists() and not (ROOT / ".checkov.yml").exists()
    assert "make checkov" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# ---------------------------------------------------------------- access logs

def test_given_the_deployed_stage_when_a_request_is_served_then_one_json_line_without_query_string_is_kept_for_the_retention(
        translated: dict[str, Any], document: dict[str, Any]) -> None:
    resources = translated["Resources"]
    stage = next(iter(_of_type(resources, "AWS::ApiGateway::Stage").values()))["Properties"]
    setting = stage["AccessLogSetting"]

    # The log group exists in the template, with a retention
    log_group = setting["DestinationArn"]["Fn::GetAtt"][0]
    assert resources[log_group]["Type"] == "AWS::Logs::LogGroup"
    assert resources[log_group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # Each line is JSON once API Gateway fills the variables (a quoted one may hold any text)
    line = re.sub(r"\$context\.[A-Za-z.]+String", '"a \\\\"quoted\\\\" text"', setting["Format"])
    line = re.sub(r"\$context\.[A-Za-z.]+", "value", line)
    fields = json.loads(line)
    assert {"requestId", "ip", "method", "route", "status", "caller"} <= set(fields)
    # and holds no query string (a `token` webhook's credential) and no header of the caller's choosing
    assert not re.search(r"querystring|\$input|\$method\.request|requestOverride|userAgent|header",
                         setting["Format"], re.IGNORECASE)


def test_given_a_new_account_when_the_stage_is_deployed_then_api_gateways_logging_role_is_set_before_it(
        translated: dict[str, Any]) -> None:
    resources = translated["Resources"]

    def depends_on(name: str) -> set[str]:
        resource = resources[name]
        depends = resource.get("DependsOn") or []
        found = {depends} if isinstance(depends, str) else set(depends)
        text = json.dumps(resource.get("Properties") or {})
        found |= {other for other in resources if f'"{other}"' in text or "${" + other + "." in text}
        return found

    def all_dependencies(name: str, seen: set[str]) -> set[str]:
        for dependency in depends_on(name) - seen:
            seen.add(dependency)
            all_dependencies(dependency, seen)
        return seen

    stage = next(iter(_of_type(resources, "AWS::ApiGateway::Stage")))
    account = next(iter(_of_type(resources, "AWS::ApiGateway::Account")))
    assert account in all_dependencies(stage, set())
    role = resources[account]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert resources[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"}
    # other APIs of the account may log through it: deleting the stack leaves the setting working
    assert resources[account]["DeletionPolicy"] == resources[role]["DeletionPolicy"] == "Retain"


# ---------------------------------------------------------------- the public functions

def test_given_a_function_on_an_unauthenticated_route_then_its_concurrency_is_reserved_and_its_throttles_raise_an_alarm(
        translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    public = {re.search(r"\$\{(\w+)\.Arn\}", operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]).group(1)
              for operation in api_operations(translated).values() if operation.get("security") == [{"NONE": []}]}

    assert public == {"InboundFunction"}  # the webhooks of SPEC 7 (any new public route is checked too)
    for function in public:
        assert resources[function]["Properties"].get("ReservedConcurrentExecutions") is not None, function
        throttles = [a for a in _alarms(resources) if a.get("MetricName") == "Throttles"
                     and a.get("Namespace") == "AWS/Lambda" and _dimension(a, "FunctionName") == {"Ref": function}]
        assert len(throttles) == 1, function
        assert throttles[0]["Threshold"] == 0 and throttles[0]["ComparisonOperator"] == "GreaterThanThreshold"


# ---------------------------------------------------------------- point-in-time recovery

@pytest.mark.parametrize("table", ["MessagesTable", "ConsentTable", "ConsentHistoryTable", "InboundTable"])
def test_given_a_table_of_messages_or_consent_when_it_is_damaged_then_it_can_be_restored_to_a_point_in_time(
        document: dict[str, Any], table: str) -> None:
    properties = document["Resources"][table]["Properties"]

    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# ---------------------------------------------------------------- alarms that reach someone

def _queue_of(value: Any) -> str:
    """The logical id a queue ARN or QueueName refers to (`!GetAtt Queue.Arn`, `!GetAtt Queue.QueueName`)."""
    return value["Fn::GetAtt"][0]


def test_given_a_dead_letter_queue_or_the_callback_queue_when_messages_wait_there_then_an_alarm_goes_to_the_alarm_topic(
        document: dict[str, Any]) -> None:
    resources = document["Resources"]
    dead_letter_queues = {_queue_of(r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
                          for r in _of_type(resources, "AWS::SQS::Queue").values() if "RedrivePolicy" in r["Properties"]}
    for function in _of_type(resources, "AWS::Serverless::Function").values():
        for event in (function["Properties"].get("Events") or {}).values():
            on_failure = ((event["Properties"].get("DestinationConfig") or {}).get("OnFailure") or {})
            if on_failure.get("Type") == "SQS":
                dead_letter_queues.add(_queue_of(on_failure["Destination"]))
    depth_alarms = {_queue_of(_dimension(a, "QueueName")): a for a in _alarms(resources)
                    if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"}

    assert dead_letter_queues == {"DeadLetterQueue", "CallbackDeadLetterQueue", "StatusEventsFailureQueue"}
    for queue in dead_letter_queues | {"CallbackQueue"}:
        alarm = depth_alarms[queue]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold"), queue
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], queue


def test_given_any_alarm_of_the_stack_when_it_fires_then_it_reaches_the_alarm_topic_and_its_email(
        document: dict[str, Any]) -> None:
    resources = document["Resources"]

    assert [a["AlarmName"] for a in _alarms(resources) if a.get("AlarmActions") != [{"Ref": "AlarmTopic"}]] == []
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = resources["AlarmEmailSubscription"]
    assert subscription["Properties"] == {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email",
                                          "Endpoint": {"Ref": "AlarmEmail"}}
    # Only when an address is given (CloudFormation refuses an email subscription without one)
    assert document["Conditions"][subscription["Condition"]] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}


# ---------------------------------------------------------------- the local runtime follows the template's auth

def test_given_the_template_when_the_local_runtime_reads_its_routes_then_exactly_those_public_in_aws_are_public_locally(
        document: dict[str, Any], translated: dict[str, Any]) -> None:
    template = Template(document, root=ROOT, endpoint_url="http://127.0.0.1:1")
    local = {(trigger.path, trigger.method.lower()): trigger.is_public
             for function in template.functions for trigger in function.triggers if hasattr(trigger, "authorizer")}
    in_aws = {key: operation.get("security") == [{"NONE": []}] for key, operation in api_operations(translated).items()}

    assert local == in_aws
    assert sum(in_aws.values()) == 4
