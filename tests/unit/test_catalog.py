"""The presets' `needs` read from their notes (services.catalog): every path names a field of the provider model."""
from __future__ import annotations

import pytest

from smsbridge.core.presets import available_presets
from smsbridge.models.provider import ProviderConfig
from smsbridge.services import catalog


@pytest.mark.parametrize("name", available_presets())
def test_given_a_preset_then_each_field_it_needs_starts_at_a_provider_field_and_has_a_hint(name: str) -> None:
    summary = catalog.preset_summaries()[available_presets().index(name)]

    assert summary.name == name and summary.title and summary.sources
    for path in summary.needs:
        assert path.split(".")[0] in ProviderConfig.model_fields
        assert summary.hints[path]


def test_given_a_preset_whose_note_names_two_fields_then_both_are_needed() -> None:
    bandwidth = catalog.preset_detail("bandwidth")

    assert bandwidth.needs[:4] == ["auth.username", "auth.password", "inbound.auth.username", "inbound.auth.password"]
    assert {"request.url", "request.body.applicationId"} <= set(bandwidth.needs)


def test_given_a_note_that_names_no_field_then_nothing_is_needed_from_it() -> None:
    aws = catalog.preset_detail("aws-end-user-messaging")

    assert aws.needs == ["auth.region", "request.url"]
