"""Providers through the admin API: list, read (secrets masked), create, replace, delete, validate a draft, import from curl."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, TypeAdapter, ValidationError

from smsbridge.adapters.http import UrlNotAllowed, check_provider_url
from smsbridge.adapters.store import ProviderNotFound
from smsbridge.core.curl import CurlError, provider_draft
from smsbridge.core.presets import resolve_preset
from smsbridge.core.secrets import MASK, join_secrets, split_secrets
from smsbridge.errors import BadRequest, Conflict, Invalid, NotFound, field_errors
from smsbridge.models.api import ImportCurlRequest, ImportCurlResult, ValidationResult
from smsbridge.models.provider import OAuth2Auth, ProviderConfig
from smsbridge.observability import logger
from smsbridge.services.ports import ProviderCatalog

def provider_exists(providers: ProviderCatalog, provider_id: str) -> bool:
    """Whether a provider of that id is stored (the admin API and the routing rules ask)."""
    try:
        providers.get(provider_id)
    except ProviderNotFound:
        return False
    return True


# A provider document as the API takes it on create and replace: a `preset` it names is merged
# in before validation (SPEC 3), so what is stored is the whole configuration, `preset` kept as
# a record of where it started; an unknown preset is a validation error listing the known ones.
ProviderDocument = Annotated[ProviderConfig, BeforeValidator(resolve_preset)]
_DOCUMENT = TypeAdapter(ProviderDocument)


class ProviderAdmin:
    def __init__(self, *, providers: ProviderCatalog, local_runtime: bool = False):
        self._providers = providers
        self._local_runtime = local_runtime

    def list(self) -> list[dict[str, Any]]:
        return [public_document(config) for config in self._providers.list()]

    def get(self, provider_id: str) -> dict[str, Any]:
        return public_document(self._providers.get(provider_id))

    def create(self, config: ProviderConfig) -> dict[str, Any]:
        if provider_exists(self._providers, config.id):
            raise Conflict(f"provider {config.id!r} exists already: PUT /providers/{config.id} to change it")
        self._refuse_masks(config, {})
        self._check_urls(config)
        self._check_failover(config)
        self._providers.put(config)
        logger.info("provider created", provider=config.id)
        return public_document(config)

    def replace(self, provider_id: str, config: ProviderConfig) -> tuple[dict[str, Any], bool]:
        """Store `config` under `provider_id`; a secret sent as the mask keeps the stored one.
        Returns the masked configuration and whether it was created."""
        if config.id != provider_id:
            raise BadRequest(f"id {config.id!r} in the body differs from {provider_id!r} in the path")
        self._check_urls(config)
        self._check_failover(config)
        try:
            stored = self._providers.get(provider_id) if provider_exists(self._providers, provider_id) else None
        except ValidationError:
            stored = None  # a stored document the current model refuses: it is being replaced anyway
        stored_secrets = split_secrets(stored)[1] if stored is not None else {}
        public, secrets = split_secrets(config)
        if any(value == MASK for value in secrets.values()):
            self._refuse_masks(config, stored_secrets)
            kept = {path: (stored_secrets[path] if value == MASK else value) for path, value in secrets.items()}
            config = ProviderConfig.model_validate(join_secrets(public, kept))
        self._providers.put(config)
        logger.info("provider stored", provider=provider_id, new_provider=stored is None)
        return public_document(config), stored is None

    def delete(self, provider_id: str) -> None:
        if not self._providers.delete(provider_id):
            raise NotFound(f"no provider {provider_id!r}")
        logger.info("provider deleted", provider=provider_id)

    def validate(self, document: dict[str, Any], *, loc_prefix: str = "body") -> ValidationResult:
        """Whether an unsaved document (its preset merged) would be accepted by create or replace,
        and why not, per field, with the `loc` a create would answer. Stores nothing."""
        try:
            config = _DOCUMENT.validate_python(document)
        except ValidationError as exc:
            return ValidationResult(valid=False, errors=field_errors(exc, prefix=loc_prefix))
        errors = [{"loc": f"{loc_prefix}.{where}", "msg": message}
                  for where, message in [*self._url_problems(config), *self._failover_problems(config)]]
        return ValidationResult(valid=not errors, errors=errors)

    def draft(self, document: dict[str, Any], *, loc_prefix: str) -> ProviderConfig:
        """The configuration of an unsaved document, or Invalid with the errors `validate` gives."""
        result = self.validate(document, loc_prefix=loc_prefix)
        if not result.valid:
            summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in result.errors[:5])
            raise Invalid(f"the provider draft is not valid: {summary}", result.errors)
        return _DOCUMENT.validate_python(document)

    def import_curl(self, command: ImportCurlRequest) -> ImportCurlResult:
        try:
            draft = provider_draft(command.curl, command.id)
        except CurlError as exc:
            raise BadRequest(f"curl: {exc}") from None
        # Placeholders left to fill make the draft invalid even where the model would take them.
        errors = [{"loc": item.where, "msg": item.message} for item in draft.unfilled]
        try:
            config = ProviderConfig.model_validate(draft.config)
        except ValidationError as exc:
            errors += field_errors(exc)
        if errors:
            return ImportCurlResult(provider=draft.shown(), notes=draft.notes, valid=False, errors=errors)
        saved = False
        if command.save:
            self.create(config)
            saved = True
        return ImportCurlResult(provider=public_document(config), notes=draft.notes, valid=True, saved=saved)


    @staticmethod
    def _refuse_masks(config: ProviderConfig, stored: dict[str, str]) -> None:
        missing = sorted(path for path, value in split_secrets(config)[1].items()
                         if value == MASK and path not in stored)
        if missing:
            raise BadRequest(f"{', '.join(missing)}: the value is the mask {MASK!r} but no secret is stored "
                             "there: give the real value")

    def _check_urls(self, config: ProviderConfig) -> None:
        """Refuse at save time a URL the transport would refuse at every send (http, private or
        metadata addresses when deployed), rather than failing each message later."""
        for where, problem in self._url_problems(config):
            raise BadRequest(f"{where}: {problem}")

    def _check_failover(self, config: ProviderConfig) -> None:
        """Refuse failover ids that name no provider, as the routing rules refuse theirs (422, per field)."""
        problems = self._failover_problems(config)
        if problems:
            errors = [{"loc": f"body.{where}", "msg": message} for where, message in problems]
            raise Invalid("the failover list names providers that do not exist: "
                          + "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5]), errors)

    def _failover_problems(self, config: ProviderConfig) -> list[tuple[str, str]]:
        return [(f"failover.{index}", f"no provider {name!r}") for index, name in enumerate(config.failover)
                if not provider_exists(self._providers, name)]

    def _url_problems(self, config: ProviderConfig) -> list[tuple[str, str]]:
        urls = {"request.url": config.request.url}
        if config.balance is not None:
            urls["balance.url"] = config.balance.url
        if isinstance(config.auth, OAuth2Auth):
            urls["auth.token_url"] = config.auth.token_url
        problems = []
        for where, url in urls.items():
            try:
                check_provider_url(url, local_runtime=self._local_runtime)
            except UrlNotAllowed as exc:
                problems.append((where, str(exc)))
        return problems


def public_document(config: ProviderConfig) -> dict[str, Any]:
    """The configuration as the API shows it: every secret as the mask."""
    return split_secrets(config)[0]
