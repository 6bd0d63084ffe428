"""The local runtime's settings, provider files and ports, without starting the whole of it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.http import LoopbackServer, PortInUse
from local.runtime import LocalSettings, ProviderFileError, read_provider_files

VALID = {"id": "acme", "request": {"url": "https://sms.example.com/send", "body": {"to": "{{to}}", "text": "{{text}}"}}}


def test_settings_come_from_the_smsbridge_variables() -> None:
    settings = LocalSettings.from_env({
        "SMSBRIDGE_API_PORT": "3100", "SMSBRIDGE_SANDBOX_PORT": "0", "SMSBRIDGE_AWS_PORT": "4600",
        "SMSBRIDGE_PARAMETER_OVERRIDES": "Stage=prod 'LogLevel=DEBUG'", "SMSBRIDGE_PROVIDERS_DIR": "/tmp/p",
        "SMSBRIDGE_SCHEDULES": "off"})

    assert (settings.api_port, settings.sandbox_port, settings.aws_port) == (3100, 0, 4600)
    assert settings.parameter_overrides == {"Stage": "prod", "LogLevel": "DEBUG"}
    assert settings.providers_dir == Path("/tmp/p")
    assert settings.schedules is False


def test_the_default_addresses_are_those_of_the_spec() -> None:
    settings = LocalSettings.from_env({})

    assert (settings.api_port, settings.sandbox_port, settings.aws_port) == (3000, 4010, 4566)


@pytest.mark.parametrize("environ", [{"SMSBRIDGE_API_PORT": "http"}, {"SMSBRIDGE_AWS_PORT": "70000"},
                                     {"SMSBRIDGE_PARAMETER_OVERRIDES": "Stage"}])
def test_a_bad_setting_is_refused_with_its_name(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="SMSBRIDGE_"):
        LocalSettings.from_env(environ)


def test_provider_files_are_read_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps({**VALID, "id": "bravo"}))
    (tmp_path / "a.json").write_text(json.dumps({**VALID, "id": "alpha"}))
    (tmp_path / "notes.txt").write_text("not a provider")

    assert [d["id"] for d in read_provider_files(tmp_path)] == ["alpha", "bravo"]


@pytest.mark.parametrize(("content", "expected"), [
    ("{not json", "not a JSON file"),
    (json.dumps({"id": "acme"}), "request: Field required"),
    (json.dumps({**VALID, "request": {**VALID["request"], "body": {"x": "{{nope}}"}}}), "nope"),
    (json.dumps({**VALID, "preset": "no-such-preset"}), "no-such-preset"),
])
def test_an_invalid_provider_file_is_named_with_its_problem(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "acme.json").write_text(content)

    with pytest.raises(ProviderFileError) as error:
        read_provider_files(tmp_path)

    assert "acme.json" in str(error.value)
    assert expected in str(error.value)


def test_a_port_in_use_is_reported_with_the_variable_to_change_it() -> None:
    first = LoopbackServer(lambda environ, start: [], 0, name="first")
    try:
        with pytest.raises(PortInUse, match="SMSBRIDGE_API_PORT"):
            LoopbackServer(lambda environ, start: [], first.port, name="API", env_var="SMSBRIDGE_API_PORT")
    finally:
        first.stop()
