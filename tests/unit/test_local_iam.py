"""The local IAM check (local/iam.py): IAM's evaluation rules, the action and resource each AWS call
needs, the functions' policies as SAM deploys them, and the botocore hook that refuses a call before
it is sent."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from local import iam
from local.iam import CallSite, FunctionPolicy, IamGuard, Statement, function_policies, required_permissions
from local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SITE = CallSite("us-east-1", "123456789012", lambda name: f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-AbCdEf")
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:smsbridge-outbound-dlq-dev"


def _policy(*statements: dict) -> FunctionPolicy:
    return FunctionPolicy("F", "f", "FRole", tuple(Statement.of(f"P{i}", s) for i, s in enumerate(statements)))


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml", endpoint_url="http://127.0.0.1:1")


@pytest.fixture(scope="module")
def policies(template: Template) -> dict[str, FunctionPolicy]:
    return function_policies(template, secret_arn=SITE.secret_arn)


# ---------------------------------------------------------------- evaluation

def test_given_a_wildcard_action_when_decided_then_it_matches_case_insensitively_and_only_its_prefix() -> None:
    policy = _policy({"Effect": "Allow", "Action": "sqs:SendMessage*", "Resource": DLQ_ARN})

    assert policy.decide("sqs:SendMessage", DLQ_ARN).allowed
    assert policy.decide("SQS:sendmessage", DLQ_ARN).allowed
    assert not policy.decide("sqs:ReceiveMessage", DLQ_ARN).allowed


def test_given_resource_wildcards_when_decided_then_star_spans_any_run_and_question_mark_one_character() -> None:
    policy = _policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                      "Resource": "arn:aws:secretsmanager:*:123456789012:secret:app/providers/*"},
                     {"Effect": "Allow", "Action": "dynamodb:Query",
                      "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/?"})

    assert policy.decide("secretsmanager:GetSecretValue",
                         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/providers/x/y-AbCdEf").allowed
    assert not policy.decide("secretsmanager:GetSecretValue",
                             "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/other-AbCdEf").allowed
    assert policy.decide("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/a").allowed
    assert not policy.decide("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/ab").allowed


def test_given_resources_when_decided_then_their_case_matters() -> None:
    policy = _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": DLQ_ARN})

    assert not policy.decide("sqs:SendMessage", DLQ_ARN.upper()).allowed


def test_given_an_allow_and_an_explicit_deny_when_decided_then_the_deny_wins_and_is_named() -> None:
    policy = _policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
                     {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": DLQ_ARN})

    decision = policy.decide("sqs:SendMessage", DLQ_ARN)

    assert not decision.allowed and decision.reason == "with an explicit deny in P1"
    assert policy.decide("sqs:ReceiveMessage", DLQ_ARN).allowed


def test_given_not_action_and_not_resource_when_decided_then_they_grant_everything_but_what_they_name() -> None:
    policy = _policy({"Effect": "Allow", "NotAction": "sqs:DeleteQueue", "NotResource": DLQ_ARN})
    other = "arn:aws:sqs:us-east-1:123456789012:other"

    assert policy.decide("sqs:SendMessage", other).allowed
    assert not policy.decide("sqs:DeleteQueue", other).allowed
    assert not policy.decide("sqs:SendMessage", DLQ_ARN).allowed


def test_given_conditions_when_decided_then_known_keys_are_evaluated_and_unknown_ones_never_grant() -> None:
    region_only = _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
                           "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}})
    unknown = _policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
                       "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    deny_unknown = _policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
                           {"Effect": "Deny", "Action": "sqs:*", "Resource": "*",
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}}})

    assert region_only.decide("sqs:SendMessage", DLQ_ARN, {"aws:requestedregion": "us-east-1"}).allowed
    assert not region_only.decide("sqs:SendMessage", DLQ_ARN, {"aws:requestedregion": "eu-west-1"}).allowed
    assert not unknown.decide("sqs:SendMessage", DLQ_ARN).allowed
    assert not deny_unknown.decide("sqs:SendMessage", DLQ_ARN).allowed


# ---------------------------------------------------------------- which action, which resource

def test_given_sqs_batch_operations_when_mapped_then_they_need_the_single_action_on_the_queue_arn() -> None:
    url = "http://127.0.0.1:4566/123456789012/smsbridge-outbound-dlq-dev"

    assert required_permissions("sqs", "SendMessageBatch", {"QueueUrl": url}, SITE) == [("sqs:SendMessage", DLQ_ARN)]
    assert required_permissions("sqs", "DeleteMessageBatch", {"QueueUrl": url}, SITE) == [("sqs:DeleteMessage", DLQ_ARN)]


def test_given_a_transaction_when_mapped_then_each_item_needs_its_own_action_on_its_own_table() -> None:
    items = [{"Update": {"TableName": "messages"}}, {"Put": {"TableName": "messages"}},
             {"ConditionCheck": {"TableName": "traffic"}}, {"Update": {"TableName": "messages"}}]

    needed = required_permissions("dynamodb", "TransactWriteItems", {"TransactItems": items}, SITE)

    table = "arn:aws:dynamodb:us-east-1:123456789012:table/"
    assert needed == [("dynamodb:UpdateItem", table + "messages"), ("dynamodb:PutItem", table + "messages"),
                      ("dynamodb:ConditionCheckItem", table + "traffic")]


def test_given_a_query_on_an_index_when_mapped_then_it_needs_the_index_arn() -> None:
    needed = required_permissions("dynamodb", "Query", {"TableName": "messages", "IndexName": "due"}, SITE)

    assert needed == [("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/messages/index/due")]


def test_given_other_services_when_mapped_then_secrets_buses_identities_and_metrics_get_their_arns() -> None:
    assert required_permissions("secretsmanager", "GetSecretValue", {"SecretId": "app/x"}, SITE) == [
        ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/x-AbCdEf")]
    assert required_permissions("events", "PutEvents", {"Entries": [{"Source": "s"}]}, SITE) == [
        ("events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default")]
    assert required_permissions("ses", "SendEmail", {"Source": "Alerts <alerts@example.com>"}, SITE) == [
        ("ses:SendEmail", "arn:aws:ses:us-east-1:123456789012:identity/alerts@example.com")]
    assert required_permissions("cloudwatch", "PutMetricData", {"Namespace": "n"}, SITE) == [
        ("cloudwatch:PutMetricData", "*")]


# ---------------------------------------------------------------- the template's policies

def test_given_the_template_when_translated_then_the_send_function_may_dead_letter_but_not_delete_tables(
        policies: dict[str, FunctionPolicy]) -> None:
    send = policies["SendFunction"]

    assert send.decide("sqs:SendMessage", DLQ_ARN).allowed
    assert not send.decide("dynamodb:DeleteTable",
                           "arn:aws:dynamodb:us-east-1:123456789012:table/smsbridge-messages-dev").allowed


def test_given_the_template_when_translated_then_the_schedule_function_queries_only_the_due_index(
        policies: dict[str, FunctionPolicy]) -> None:
    schedule, table = policies["ScheduleFunction"], "arn:aws:dynamodb:us-east-1:123456789012:table/smsbridge-messages-dev"

    assert schedule.decide("dynamodb:Query", table + "/index/due").allowed
    assert not schedule.decide("dynamodb:Query", table + "/index/by-time").allowed


def test_given_a_secret_granted_by_ref_when_translated_then_the_grant_is_its_full_arn_with_its_suffix(
        policies: dict[str, FunctionPolicy]) -> None:
    callbacks = policies["CallbacksFunction"]
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:smsbridge/dev/callback-secret"

    assert callbacks.decide("secretsmanager:GetSecretValue", secret + "-AbCdEf").allowed
    assert not callbacks.decide("secretsmanager:GetSecretValue", secret + "-ZzZzZz").allowed


def test_given_the_managed_policies_sam_attaches_when_translated_then_they_grant_logs_and_event_sources_only(
        policies: dict[str, FunctionPolicy]) -> None:
    status = policies["StatusFunction"]

    assert status.unknown_managed == ()
    assert status.decide("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:x").allowed
    assert status.decide("dynamodb:GetRecords", "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s").allowed
    assert not status.decide("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/t").allowed


# ---------------------------------------------------------------- the hook

@pytest.fixture
def guarded(template: Template):
    guard = IamGuard(template)
    guard._secret_arns["smsbridge/dev/callback-secret"] = SITE.secret_arn("smsbridge/dev/callback-secret")
    with iam.guarding(guard):
        yield guard


def _sqs():
    return boto3.session.Session(region_name="us-east-1", aws_access_key_id="testing",
                                 aws_secret_access_key="testing").client("sqs", endpoint_url="http://127.0.0.1:1")


def test_given_a_function_without_the_grant_when_it_calls_then_access_denied_names_function_action_and_arn(
        guarded: IamGuard, caplog: pytest.LogCaptureFixture) -> None:
    sqs = _sqs()

    with iam.invocation("StatusFunction"), pytest.raises(ClientError) as refused:
        sqs.send_message(QueueUrl="http://127.0.0.1:1/123456789012/smsbridge-outbound-dlq-dev", MessageBody="x")

    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert "StatusFunction" in error["Message"] and "sqs:SendMessage" in error["Message"] and DLQ_ARN in error["Message"]
    assert any(r.levelname == "ERROR" and DLQ_ARN in r.getMessage() for r in caplog.records)


def test_given_a_granted_call_or_a_call_outside_any_invocation_when_made_then_it_goes_through(guarded: IamGuard) -> None:
    sqs = _sqs()
    url = "http://127.0.0.1:1/123456789012/smsbridge-outbound-dlq-dev"

    with Stubber(sqs) as stub:
        stub.add_response("send_message", {"MessageId": "1"})
        stub.add_response("send_message", {"MessageId": "2"})
        with iam.invocation("SendFunction"):
            assert sqs.send_message(QueueUrl=url, MessageBody="x")["MessageId"] == "1"
        assert sqs.send_message(QueueUrl=url, MessageBody="y")["MessageId"] == "2"


def test_given_the_layers_worker_threads_when_an_invocation_uses_them_then_they_run_as_that_function() -> None:
    from smsbridge.observability import invocation_context_for_workers

    with iam.invocation("SendFunction"):
        with ThreadPoolExecutor(max_workers=2, **invocation_context_for_workers()) as pool:
            seen = list(pool.map(lambda _: iam.current_function(), range(4)))
    with ThreadPoolExecutor(max_workers=2) as plain, iam.invocation("SendFunction"):
        unseen = plain.submit(iam.current_function).result()

    assert seen == ["SendFunction"] * 4
    assert unseen is None  # a plain executor's threads start without the invocation


# ---------------------------------------------------------------- make iam-report

def test_given_a_recorded_run_when_reported_then_used_grants_show_their_actions_and_the_rest_are_listed_unused(
        template: Template, tmp_path: Path) -> None:
    from local.iam_report import read_used, report

    recorded = tmp_path / "used.jsonl"
    recorded.write_text(f'{{"function": "SendFunction", "action": "sqs:SendMessage", "resource": "{DLQ_ARN}", '
                        '"allowed": true}\n', encoding="utf-8")

    table, unused = report(template, read_used(recorded))

    assert re.search(r"used   Policies\[\d+\] SQSSendMessagePolicy QueueName DeadLetterQueue.QueueName: sqs:SendMessage", table)
    assert any(re.fullmatch(r"SendFunction: Policies\[\d+\] SESCrudPolicy IdentityName AlertSenderEmail", g) for g in unused)
    assert not any("AWSLambdaBasicExecutionRole" in grant for grant in unused)  # Lambda's own, never listed
