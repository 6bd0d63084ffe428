"""`python -m local.runtime` (`make run`): SMS Bridge on one machine, no AWS account, no Docker.

Starts, on 127.0.0.1 only: moto standing in for AWS with the resources of template.yaml, the
template's API routes, an SQS poller per SQS event, the schedules, and the sandbox provider;
configures the `sandbox` provider and every provider file of `SMSBRIDGE_PROVIDERS_DIR`.
`LocalRuntime` does the same in-process (tests, the demo); port 0 picks free ports.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.apigw import LocalApiGateway
from local.aws import (DUMMY_CREDENTIALS, EndpointSession, MotoProcess, faster_botocore_attribute_values,
                       interpreter_tuned_for_serving, sent_emails)
from local.functions import FunctionHost, apply_environment, environment_of, restore_environment
from local.http import LoopbackServer, PortInUse
from local import iam
from local.poller import SqsEventSourceMapping, mappings_for
from local.event_log import EventLog
from local.streams import DynamoDbStreamMapping, stream_mappings_for
from local.sandbox.server import SandboxProvider
from local.scheduler import Scheduler
from local.resources import CreatedResources, create_resources
from local.template import (
    REGION,
    ApiTrigger,
    ScheduleTrigger,
    SqsTrigger,
    Template,
    TemplateError,
)

log = logging.getLogger("local.runtime")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MESSAGE = {"to": "+33612345678", "text": "Hello from SMS Bridge"}


class ProviderFileError(ValueError):
    """A file of SMSBRIDGE_PROVIDERS_DIR is not a valid provider configuration."""


@dataclass
class LocalSettings:
    """Where things listen and what to load; `from_env` reads the SMSBRIDGE_* variables."""

    api_port: int = 3000
    sandbox_port: int = 4010
    aws_port: int = 4566
    template: Path = PROJECT_ROOT / "template.yaml"
    providers_dir: Path | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    stack_name: str = "smsbridge"
    schedules: bool = True
    pollers: bool = True
    ready_file: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LocalSettings:
        def port(name: str, default: int) -> int:
            value = environ.get(name, "").strip()
            if not value:
                return default
            if not value.isdigit() or int(value) > 65535:
                raise ValueError(f"{name}={value!r}: a port number (0 picks a free port)")
            return int(value)

        overrides = {}
        for pair in shlex.split(environ.get("SMSBRIDGE_PARAMETER_OVERRIDES", "")):
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"SMSBRIDGE_PARAMETER_OVERRIDES: {pair!r} is not Name=Value")
            overrides[name.removeprefix("ParameterKey=")] = value.removeprefix("ParameterValue=")
        providers_dir = environ.get("SMSBRIDGE_PROVIDERS_DIR", "").strip()
        ready_file = environ.get("SMSBRIDGE_READY_FILE", "").strip()
        return cls(
            api_port=port("SMSBRIDGE_API_PORT", 3000),
            sandbox_port=port("SMSBRIDGE_SANDBOX_PORT", 4010),
            aws_port=port("SMSBRIDGE_AWS_PORT", 4566),
            template=Path(environ.get("SMSBRIDGE_TEMPLATE") or PROJECT_ROOT / "template.yaml"),
            providers_dir=Path(providers_dir) if providers_dir else None,
            parameter_overrides=overrides,
            stack_name=environ.get("SMSBRIDGE_STACK_NAME", "smsbridge"),
            schedules=environ.get("SMSBRIDGE_SCHEDULES", "on").lower() not in ("0", "off", "false", "no"),
            ready_file=Path(ready_file) if ready_file else None,
        )

    @classmethod
    def free_ports(cls, **kwargs: Any) -> LocalSettings:
        """Every server on a free port: for tests and the demo, beside a running `make run`."""
        return cls(api_port=0, sandbox_port=0, aws_port=0, **kwargs)


def read_provider_files(folder: Path) -> list[dict[str, Any]]:
    """The provider documents of `folder/*.json`, each validated; ProviderFileError names the
    file and every problem in it."""
    from pydantic import ValidationError

    from smsbridge.core.presets import UnknownPreset
    from smsbridge.models.provider import ProviderConfig

    if not folder.is_dir():
        raise ProviderFileError(f"SMSBRIDGE_PROVIDERS_DIR={folder}: not a folder")
    documents = []
    for path in sorted(folder.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProviderFileError(f"{path}: not a JSON file: {exc}") from None
        try:
            ProviderConfig.model_validate(_with_preset(document))
        except UnknownPreset as exc:
            raise ProviderFileError(f"{path}: {exc}") from None
        except ValidationError as exc:
            problems = "\n".join(f"  - {'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}"
                                 for e in exc.errors())
            raise ProviderFileError(f"{path}: not a valid provider configuration (SPEC 3):\n{problems}") from None
        documents.append(document)
    return documents


def _with_preset(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its preset's defaults merged in (SPEC 3): its own fields win."""
    from smsbridge.core.presets import resolve_preset

    return resolve_preset(document)


class LocalRuntime:
    """The whole local system, started in this process. One per process: moto keeps its state
    in module globals, and the functions' modules stay imported."""

    def __init__(self, settings: LocalSettings | None = None):
        self.settings = settings or LocalSettings()
        self.template: Template | None = None
        self.resources: CreatedResources | None = None
        self.host: FunctionHost | None = None
        self.sandbox: SandboxProvider | None = None
        self.scheduler: Scheduler | None = None
        self.pollers: list[SqsEventSourceMapping] = []
        self.streams: list[DynamoDbStreamMapping] = []
        self.event_log: EventLog | None = None
        self.providers: list[str] = []
        self.iam: iam.IamGuard | None = None
        self.started_in_s: float | None = None
        self._moto: MotoProcess | None = None
        self._api: LoopbackServer | None = None
        self._previous_env: dict[str, str | None] = {}
        self._stopped = threading.Event()

    # -------------------------------------------------------- addresses

    @property
    def aws_url(self) -> str:
        assert self._moto is not None, "start() first"
        return self._moto.url

    @property
    def api_url(self) -> str:
        assert self._api is not None, "start() first"
        return self._api.url

    @property
    def sandbox_url(self) -> str:
        assert self.sandbox is not None, "start() first"
        return self.sandbox.url

    def session(self) -> EndpointSession:
        """A boto3 session on the AWS stand-in, for tests and scripts."""
        return EndpointSession(self.aws_url)

    def queue_url(self, logical_id: str) -> str:
        assert self.resources is not None, "start() first"
        return self.resources.queues[logical_id]

    def table_name(self, logical_id: str) -> str:
        assert self.resources is not None, "start() first"
        return self.resources.tables[logical_id]

    @property
    def source_queues(self) -> dict[str, str]:
        """The queues a function polls, by logical id."""
        assert self.template is not None and self.resources is not None
        arns = {t.queue_arn for f in self.template.functions for t in f.triggers_of(SqsTrigger)}
        return {lid: url for lid, url in self.resources.queues.items() if self.template.arn(lid) in arns}

    @property
    def dead_letter_queues(self) -> dict[str, str]:
        """The queues that are some queue's RedrivePolicy target, by logical id."""
        assert self.template is not None and self.resources is not None
        targets = set()
        for lid in self.resources.queues:
            policy = self.template.resolve(self.template.properties(lid).get("RedrivePolicy"))
            if isinstance(policy, str):
                policy = json.loads(policy)
            if policy:
                targets.add(policy.get("deadLetterTargetArn"))
        return {lid: url for lid, url in self.resources.queues.items() if self.template.arn(lid) in targets}

    # -------------------------------------------------------- start and stop

    def start(self) -> LocalRuntime:
        started = time.perf_counter()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.started_in_s = time.perf_counter() - started
        if self.settings.ready_file is not None:
            # Written aside then renamed: whoever waits for the file never reads half of it.
            partial = self.settings.ready_file.with_name(self.settings.ready_file.name + ".partial")
            partial.write_text(json.dumps(self.addresses(), indent=2))
            partial.replace(self.settings.ready_file)
        return self

    def _start(self) -> None:
        settings = self.settings
        iam.install_hook()  # before any client the functions make exists
        faster_botocore_attribute_values()
        self._moto = MotoProcess(settings.aws_port).start()
        self.template = Template.load(settings.template, endpoint_url=self._moto.url,
                                      parameter_overrides=settings.parameter_overrides, stack_name=settings.stack_name)
        session = self.session()
        self.resources = create_resources(self.template, session)
        if iam.check_enabled():
            secrets = session.client("secretsmanager")
            self.iam = iam.IamGuard(self.template, secrets_client=lambda: secrets,
                                    record_to=os.environ.get(iam.RECORD_ENV) or None).prepare()
            log.info("IAM: each AWS call a function makes is checked against its own policy (%s=off to stop it)",
                     iam.CHECK_ENV)
        else:
            log.warning("IAM: %s is off: the functions run with full access, as nowhere in AWS", iam.CHECK_ENV)
        iam.activate(self.iam)
        functions = self.template.functions

        # The functions see what the template gives them, plus what Lambda and the local runtime set.
        self._previous_env = apply_environment({
            **environment_of(functions),
            "SMSBRIDGE_LOCAL": "true",
            "AWS_ENDPOINT_URL": self._moto.url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIALS["aws_secret_access_key"],
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
        })
        # A developer's own AWS settings must not send the functions to a real account.
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_") or n in ("AWS_SESSION_TOKEN",
                                                                                           "AWS_PROFILE")]:
            self._previous_env.setdefault(name, os.environ.pop(name))
        self.host = FunctionHost(functions)
        self.host.add_import_paths()

        self.scheduler = Scheduler(self.host)
        self.event_log = EventLog(session).start()
        gateway = LocalApiGateway(self.host, run_scheduled=self.scheduler.run_now,
                                  emails=lambda: sent_emails(self.aws_url), info=self.addresses,
                                  events=self.event_log.events)
        self._api = LoopbackServer(gateway, settings.api_port, name="API", env_var="SMSBRIDGE_API_PORT")
        self.sandbox = SandboxProvider(bridge_url=self._api.url)
        self.sandbox.serve(settings.sandbox_port)

        self._configure_providers(session)

        self.host.warm_up()
        self.sandbox.start()
        self._api.start()
        if settings.pollers:
            sqs = session.client("sqs")
            by_arn = {self.template.arn(lid): url for lid, url in self.resources.queues.items()}
            self.pollers = [m.start() for m in mappings_for(self.host, sqs, by_arn)]
            self.streams = [m.start() for m in stream_mappings_for(self.host, session, by_arn)]
        if settings.schedules:
            self.scheduler.start()

    def _configure_providers(self, session: EndpointSession) -> None:
        """Store the sandbox provider, then every provider file, through the package's own
        ProviderStore (config in the providers table, secrets in Secrets Manager)."""
        from smsbridge.adapters.store import ProviderStore
        from smsbridge.models.provider import ProviderConfig
        from smsbridge.settings import get_settings

        documents = [self.sandbox.config]
        if self.settings.providers_dir is not None:
            files = read_provider_files(self.settings.providers_dir)
            if any(d.get("default") for d in files):
                documents[0] = {**documents[0], "default": False}
                log.info("a provider file is marked default: the sandbox provider is not")
            documents.extend(files)
        get_settings.cache_clear()  # read again from the environment just set: what the functions will see
        settings = get_settings()
        store = ProviderStore(settings.providers_table, settings.secret_prefix,
                              dynamodb=session.resource("dynamodb"), secretsmanager=session.client("secretsmanager"))
        for document in documents:
            config = ProviderConfig.model_validate(_with_preset(document))
            store.put(config)
            self.providers.append(config.id + (" (default)" if config.default else ""))

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for poller in self.pollers:
            poller.stop()
        for stream in self.streams:
            stream.stop()
        if self.event_log is not None:
            self.event_log.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._api is not None:
            self._api.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self.host is not None:
            self.host.remove_import_paths()
        restore_environment(self._previous_env)
        iam.activate(None)
        if self._moto is not None:
            self._moto.stop()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -------------------------------------------------------- what to tell the user

    def addresses(self) -> dict[str, Any]:
        assert self.template is not None and self.resources is not None and self.host is not None
        return {
            "console_url": self.api_url + "/console/",
            "api_url": self.api_url,
            "events_url": self.api_url + "/_local/events",
            "sandbox_url": self.sandbox_url,
            "aws_url": self.aws_url,
            "region": REGION,
            "queues": dict(self.resources.queues),
            "source_queues": self.source_queues,
            "dead_letter_queues": self.dead_letter_queues,
            "tables": dict(self.resources.tables),
            "functions": {
                f.name: {"handler": f.handler,
                         "routes": [f"{t.method} {t.path}" for t in f.triggers_of(ApiTrigger)],
                         "queues": [t.queue_name for t in f.triggers_of(SqsTrigger)],
                         "schedules": [t.expression for t in f.triggers_of(ScheduleTrigger)]}
                for f in self.host.functions.values()},
            "providers": list(self.providers),
        }

    def banner(self) -> str:
        addresses = self.addresses()
        width = 20
        lines = [f"SMS Bridge local runtime is ready (started in {self.started_in_s or 0:.1f} s). Ctrl-C stops it.", ""]

        def line(label: str, value: str) -> None:
            lines.append(f"  {label:<{width}} {value}")

        line("Console", addresses["console_url"])
        line("API", addresses["api_url"])
        line("Sandbox inbox page", addresses["sandbox_url"] + "/")
        line("AWS endpoint (moto)", f"{addresses['aws_url']}   (region {REGION}, any credentials)")
        for lid, url in addresses["source_queues"].items():
            line(f"Queue {lid}", url)
        for lid, url in addresses["dead_letter_queues"].items():
            line(f"DLQ {lid}", url)
        line("Emails sent (SES)", addresses["api_url"] + "/_local/emails")
        line("Events (EventBridge)", addresses["api_url"] + "/_local/events")
        api_routes = {r for f in addresses["functions"].values() for r in f["routes"]}
        if "GET /swagger" in api_routes:
            line("API docs", addresses["api_url"] + "/swagger")
        lines.append("")
        for name, function in addresses["functions"].items():
            triggers = [*function["routes"], *(f"SQS {q}" for q in function["queues"]),
                        *function["schedules"]]
            wrapped = _wrap_items(triggers or ["(no trigger)"], 96 - width)
            line(f"function {name}", wrapped[0])
            lines.extend(f"  {'':<{width}} {more}" for more in wrapped[1:])
        line("providers", ", ".join(addresses["providers"]))
        lines.append("")
        sample = json.dumps(SAMPLE_MESSAGE)
        if "POST /messages" in api_routes:
            lines += ["Send an SMS:",
                      f"  curl -X POST {addresses['api_url']}/messages -H 'content-type: application/json' "
                      f"-d '{sample}'"]
        for url in list(addresses["source_queues"].values())[:1]:
            lines += ["Or put it straight on the queue:"]
            if shutil.which("aws"):
                lines.append(f"  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws sqs send-message "
                             f"--endpoint-url {addresses['aws_url']} --region {REGION} --queue-url {url} "
                             f"--message-body '{sample}'")
            else:
                lines.append(f"  {sys.executable} -c \"import boto3; boto3.client('sqs', endpoint_url="
                             f"'{addresses['aws_url']}', region_name='{REGION}', aws_access_key_id='testing', "
                             f"aws_secret_access_key='testing').send_message(QueueUrl='{url}', "
                             f"MessageBody='{sample}')\"")
        lines += [f"Then watch it arrive: {addresses['sandbox_url']}/"]
        return "\n".join(lines)


def _wrap_items(items: list[str], width: int) -> list[str]:
    """`items` joined with commas into lines of at most `width`, never breaking an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


class MaskingFormatter(logging.Formatter):
    """The runtime's log lines with every secret the functions know masked (their secret registry,
    `smsbridge.observability`, is in this process: the functions run in it)."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: A003 - the stdlib's name
        text = super().format(record)
        # Looked up, not imported: the layer is importable only once the functions are loaded,
        # and until it is loaded no secret is known.
        observability = sys.modules.get("smsbridge.observability")
        return observability.mask_known(text) if observability is not None else text


def configure_logging() -> None:
    handler = logging.StreamHandler()
    # The net behind what the code logs: no secret known to the functions is printed.
    handler.setFormatter(MaskingFormatter("%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> int:
    configure_logging()
    try:
        settings = LocalSettings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runtime = LocalRuntime(settings)
    stop = threading.Event()

    def request_stop(*_: object) -> None:
        if stop.is_set():
            os._exit(130)  # a second Ctrl-C: do not wait for a function that hangs
        stop.set()

    # Both set explicitly: a shell may start a background job with SIGINT ignored.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        runtime.start()
    except (PortInUse, ProviderFileError, TemplateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    interpreter_tuned_for_serving()  # the functions' process, as moto's (local/aws.py)
    if not stop.is_set():
        print("\n" + runtime.banner() + "\n", flush=True)
    stop.wait()
    print("Stopping...", flush=True)
    started = time.perf_counter()
    runtime.stop()
    print(f"Stopped in {time.perf_counter() - started:.1f} s.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
