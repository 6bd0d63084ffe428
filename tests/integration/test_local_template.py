"""template.yaml as the local runtime reads it: tags resolved, functions modelled, and every
resource created in a moto server on loopback, so that the template stays the single source of truth."""
from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.aws import EndpointSession, MotoServer
from local.resources import create_resources
from local.template import (
    ApiTrigger,
    ScheduleTrigger,
    SqsTrigger,
    Template,
    TemplateError,
    load_document,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    server = MotoServer(port=0).start()
    yield server
    server.stop()


def _reset(moto: MotoServer) -> None:
    """A clean AWS stand-in for each test (moto keeps its state in the process)."""
    import requests

    requests.post(f"{moto.url}/moto-api/reset", timeout=10).raise_for_status()


def _write(folder: Path, text: str) -> Path:
    path = folder / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


# ---------------------------------------------------------------- the project's template

def test_a_table_added_to_the_template_appears_in_the_local_runtime_with_no_other_change(
        tmp_path: Path, moto: MotoServer) -> None:
    # Given a copy of the project's template with one more table, used by the send function
    _reset(moto)
    shutil.copytree(ROOT / "functions", tmp_path / "functions")
    shutil.copytree(ROOT / "layers", tmp_path / "layers")
    text = (ROOT / "template.yaml").read_text()
    text = text.replace("\nResources:\n", textwrap.dedent("""
        Resources:
          AuditTable:
            Type: AWS::DynamoDB::Table
            Properties:
              TableName: !Sub smsbridge-audit-${Stage}
              BillingMode: PAY_PER_REQUEST
              AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
              KeySchema: [{AttributeName: id, KeyType: HASH}]
        """), 1)
    text = text.replace("        STAGE: !Ref Stage\n", "        STAGE: !Ref Stage\n        AUDIT_TABLE: !Ref AuditTable\n", 1)
    (tmp_path / "template.yaml").write_text(text)

    # When the local runtime loads it and creates its resources
    template = Template.load(tmp_path / "template.yaml", endpoint_url=moto.url)
    created = create_resources(template, EndpointSession(moto.url))

    # Then the table exists in the AWS stand-in, and the functions are told its name
    assert created.tables["AuditTable"] == "smsbridge-audit-dev"
    assert "smsbridge-audit-dev" in EndpointSession(moto.url).client("dynamodb").list_tables()["TableNames"]
    assert template.function("SendFunction").environment["AUDIT_TABLE"] == "smsbridge-audit-dev"


def test_the_project_template_creates_its_tables_queues_and_sender_identity(moto: MotoServer) -> None:
    _reset(moto)
    template = Template.load(ROOT / "template.yaml", endpoint_url=moto.url)

    created = create_resources(template, EndpointSession(moto.url))

    session = EndpointSession(moto.url)
    messages = session.client("dynamodb").describe_table(TableName=created.tables["MessagesTable"])["Table"]
    assert [i["IndexName"] for i in messages["GlobalSecondaryIndexes"]] == ["provider-message-id", "by-time", "by-phone", "due"]
    by_time = messages["GlobalSecondaryIndexes"][1]
    assert [k["AttributeName"] for k in by_time["KeySchema"]] == ["month_shard", "created_key"]
    assert by_time["Projection"]["ProjectionType"] == "INCLUDE"
    ttl = session.client("dynamodb").describe_time_to_live(TableName=created.tables["MessagesTable"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    attributes = session.client("sqs").get_queue_attributes(QueueUrl=created.queues["OutboundQueue"],
                                                           AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "180"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": template.arn("DeadLetterQueue"),
                                                       "maxReceiveCount": 200}
    assert "alerts@example.com" in session.client("ses").list_identities()["Identities"]


def test_the_project_functions_get_the_environment_and_triggers_the_template_gives_them() -> None:
    template = Template.load(ROOT / "template.yaml", endpoint_url="http://127.0.0.1:4566")

    send = template.function("SendFunction")

    assert send.name == "send"
    assert (send.handler_module, send.handler_function) == ("send_handler", "lambda_handler")
    assert send.code_uri == ROOT / "functions" / "send"
    assert send.layer_paths == (ROOT / "layers" / "common",)
    assert send.environment["MESSAGES_TABLE"] == "smsbridge-messages-dev"
    assert send.environment["OUTBOUND_QUEUE_URL"] == "http://127.0.0.1:4566/123456789012/smsbridge-outbound-dev"
    assert send.environment["SECRET_PREFIX"] == "smsbridge/dev/providers/"
    assert send.environment["BULK_QUEUE_URL"] == "http://127.0.0.1:4566/123456789012/smsbridge-bulk-dev"
    # SPEC 12: the notification lane without batching window, the bulk lane in batches of up to 1,000
    outbound, bulk = send.triggers_of(SqsTrigger)
    assert (outbound.queue_arn, outbound.batch_size, outbound.batching_window_s, outbound.report_batch_item_failures,
            outbound.maximum_concurrency) == ("arn:aws:sqs:us-east-1:123456789012:smsbridge-outbound-dev", 10, 0, True, 10)
    assert (bulk.queue_arn, bulk.batch_size, bulk.batching_window_s, bulk.report_batch_item_failures,
            bulk.maximum_concurrency) == ("arn:aws:sqs:us-east-1:123456789012:smsbridge-bulk-dev", 1000, 2.0, True, 4)


# ---------------------------------------------------------------- the tags and intrinsics

def test_short_tags_are_read_in_their_long_form(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        Resources:
          Q:
            Type: AWS::SQS::Queue
            Properties:
              A: !Ref X
              B: !GetAtt Q.Arn
              C: !Sub "${X}-y"
              D: !Join [",", [a, !Ref X]]
              E: !If [Cond, 1, 2]
              F: 2010-09-09
        """)

    props = load_document(path)["Resources"]["Q"]["Properties"]

    assert props == {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Q", "Arn"]}, "C": {"Fn::Sub": "${X}-y"},
                     "D": {"Fn::Join": [",", ["a", {"Ref": "X"}]]}, "E": {"Fn::If": ["Cond", 1, 2]},
                     "F": "2010-09-09"}


def test_intrinsics_resolve_to_their_local_values(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        Parameters:
          Stage: {Type: String, Default: dev}
          Zones: {Type: CommaDelimitedList, Default: "a,b"}
        Conditions:
          IsProd: !Equals [!Ref Stage, prod]
          NotProd: !Not [!Condition IsProd]
        Mappings:
          Sizes: {dev: {memory: 256}}
        Resources:
          Queue:
            Type: AWS::SQS::Queue
            Properties: {FifoQueue: true}
          Table:
            Type: AWS::DynamoDB::Table
            Properties: {TableName: !Sub "t-${Stage}-${AWS::Region}"}
          ProdOnly:
            Type: AWS::SQS::Queue
            Condition: IsProd
        Outputs:
          Url: {Value: !Ref Queue}
          QueueName: {Value: !GetAtt Queue.QueueName}
          Arn: {Value: !GetAtt Table.Arn}
          Sub: {Value: !Sub ["${Name}/${!Literal}/${AWS::AccountId}", {Name: !Ref Table}]}
          Split: {Value: !Select [1, !Split ["-", !Ref Table]]}
          If: {Value: !If [NotProd, yes-dev, !Ref AWS::NoValue]}
          Map: {Value: !FindInMap [Sizes, !Ref Stage, memory]}
          Zones: {Value: !Join ["+", !Ref Zones]}
        """)

    template = Template.load(path, endpoint_url="http://127.0.0.1:4566", parameter_overrides={})

    assert "ProdOnly" not in template.resources
    assert template.outputs == {
        "Url": "http://127.0.0.1:4566/123456789012/smsbridge-Queue.fifo",
        "QueueName": "smsbridge-Queue.fifo",
        "Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/t-dev-us-east-1",
        "Sub": "t-dev-us-east-1/${Literal}/123456789012",
        "Split": "dev",
        "If": "yes-dev",
        "Map": 256,
        "Zones": "a+b",
    }


def test_a_parameter_override_must_be_declared_and_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        Parameters:
          Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
        Resources:
          Q: {Type: AWS::SQS::Queue}
        """)

    assert Template.load(path, endpoint_url="http://x", parameter_overrides={"Stage": "prod"}).parameters == {
        "Stage": "prod"}
    with pytest.raises(TemplateError, match="not one of"):
        Template.load(path, endpoint_url="http://x", parameter_overrides={"Stage": "qa"})
    with pytest.raises(TemplateError, match="not in the template"):
        Template.load(path, endpoint_url="http://x", parameter_overrides={"Nope": "1"})


def test_function_properties_merge_globals_and_read_every_trigger_kind(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    path = _write(tmp_path, """
        Globals:
          Function:
            Timeout: 30
            Environment: {Variables: {SHARED: one, OVERRIDDEN: global}}
          Api:
            StageName: v1
            BinaryMediaTypes: ["image~1png"]
        Resources:
          Queue: {Type: AWS::SQS::Queue}
          ReportFunction:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn/
              Handler: report_handler.handle
              Timeout: 5
              Environment: {Variables: {OVERRIDDEN: mine, QUEUE: !Ref Queue}}
              Events:
                Feed: {Type: SQS, Properties: {Queue: !GetAtt Queue.Arn}}
                Get: {Type: Api, Properties: {Path: "/reports/{id}", Method: get}}
                Http: {Type: HttpApi, Properties: {Path: "/h", Method: POST}}
                Nightly: {Type: ScheduleV2, Properties: {ScheduleExpression: "cron(0 3 * * ? *)", Input: '{"a": 1}'}}
                Off: {Type: Schedule, Properties: {Schedule: rate(1 hour), Enabled: false}}
        """)

    function = Template.load(path, endpoint_url="http://127.0.0.1:9").function("ReportFunction")

    assert function.name == "report"
    assert function.timeout_s == 5
    assert function.environment == {"SHARED": "one", "OVERRIDDEN": "mine",
                                    "QUEUE": "http://127.0.0.1:9/123456789012/smsbridge-Queue"}
    assert function.triggers_of(SqsTrigger)[0].batch_size == 10
    assert function.triggers_of(SqsTrigger)[0].batching_window_s == 0
    assert function.triggers_of(SqsTrigger)[0].report_batch_item_failures is False
    rest, http = function.triggers_of(ApiTrigger)
    assert (rest.path, rest.method, rest.kind, rest.stage, rest.binary_media_types) == (
        "/reports/{id}", "GET", "rest", "v1", ("image/png",))
    assert (http.method, http.kind) == ("POST", "http")
    nightly, off = function.triggers_of(ScheduleTrigger)
    assert (nightly.expression, nightly.input, nightly.enabled) == ("cron(0 3 * * ? *)", '{"a": 1}', True)
    assert off.enabled is False


def test_resources_are_created_in_dependency_order(tmp_path: Path, moto: MotoServer) -> None:
    # Given a queue whose dead-letter queue is declared after it
    _reset(moto)
    path = _write(tmp_path, """
        Resources:
          Main:
            Type: AWS::SQS::Queue
            Properties:
              RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 3}
          Dead: {Type: AWS::SQS::Queue}
          Simple: {Type: AWS::Serverless::SimpleTable}
          Bus: {Type: AWS::Events::EventBus, Properties: {Name: my-bus}}
          Alarm: {Type: AWS::CloudWatch::Alarm}
        """)
    template = Template.load(path, endpoint_url=moto.url)

    created = create_resources(template, EndpointSession(moto.url))

    assert list(created.queues) == ["Dead", "Main"]
    assert created.tables == {"Simple": "smsbridge-Simple"}
    assert created.other == {"Bus": "my-bus"}
    assert created.skipped == {"Alarm": "AWS::CloudWatch::Alarm"}


# ---------------------------------------------------------------- event source scaling (SPEC 8)

_SCALED = """
    Resources:
      Feed:
        Type: AWS::SQS::Queue
      Worker:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: functions/worker/
          Handler: worker_handler.handle
          Events:
            Feed:
              Type: SQS
              Properties:
                Queue: !GetAtt Feed.Arn
                {scaling}
    """


def _scaled(folder: Path, scaling: str) -> Template:
    return Template.load(_write(folder, _SCALED.replace("{scaling}", scaling)), endpoint_url="http://127.0.0.1:4566")


def test_given_a_maximum_concurrency_then_the_local_poller_gets_it_and_without_one_five(tmp_path: Path) -> None:
    [scaled] = _scaled(tmp_path, "ScalingConfig: {MaximumConcurrency: 7}").function("Worker").triggers_of(SqsTrigger)
    [default] = _scaled(tmp_path, "").function("Worker").triggers_of(SqsTrigger)

    assert (scaled.maximum_concurrency, scaled.concurrency) == (7, 7)
    assert (default.maximum_concurrency, default.concurrency) == (None, 5)


@pytest.mark.parametrize("value", ["1", "1001", "many"])
def test_given_a_maximum_concurrency_lambda_refuses_then_the_template_is_refused_naming_it(
        tmp_path: Path, value: str) -> None:
    template = _scaled(tmp_path, f"ScalingConfig: {{MaximumConcurrency: {value}}}")

    with pytest.raises(TemplateError, match="Worker: event Feed: ScalingConfig.MaximumConcurrency .* 2 to 1000"):
        template.function("Worker")
