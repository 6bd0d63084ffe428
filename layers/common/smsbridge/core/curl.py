"""curl both ways: a rendered provider request as a curl command, and a provider's sample curl command as a provider draft."""
from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_plus, urlsplit, urlunsplit

from smsbridge.core.secrets import CREDENTIAL_SCHEME, MASK, credential_headers, mask, mask_bytes
from smsbridge.models.provider import ApiKeyAuth
from smsbridge.models.wire import HttpRequest

# ---------------------------------------------------------------- request → curl


def curl_command(request: HttpRequest) -> str:
    """The request as a curl command a shell runs unchanged (every argument single-quoted where needed)."""
    parts = ["curl", "-X", request.method, shlex.quote(request.url)]
    for name, value in request.headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if request.body is not None:
        # --data-raw sends the bytes as given: -d would read a leading '@' as a file name.
        parts += ["--data-raw", shlex.quote(request.body.decode("utf-8", errors="replace"))]
    lines, line = [], parts[:4]
    for option, value in zip(parts[4::2], parts[5::2]):
        lines.append(" ".join(line))
        line = [" ", option, value]
    lines.append(" ".join(line))
    return " \\\n".join(lines)


# ---------------------------------------------------------------- masking secrets for display

def masked_request(request: HttpRequest, auth: Any, secrets: Iterable[str]) -> HttpRequest:
    """The request as it may be shown: the credentials `auth` added are masked (keeping a scheme
    such as `Basic ` or the configured prefix, so the shape stays visible), and any secret value
    found anywhere else, in any form, is replaced by the mask (`core.secrets.mask`)."""
    headers = dict(request.headers)
    url = request.url
    for name in credential_headers(auth):
        for key in list(headers):
            if key.lower() == name.lower():
                headers[key] = _masked_header_value(headers[key], auth)
    if isinstance(auth, ApiKeyAuth) and auth.query:
        url = _masked_query_parameter(url, auth.query)
    secrets = frozenset(secrets)
    body = mask_bytes(request.body, secrets) if request.body is not None else None
    return replace(request, url=mask(url, secrets), headers={key: mask(value, secrets) for key, value in headers.items()},
                   body=body)


def _masked_header_value(value: str, auth: Any) -> str:
    prefix = getattr(auth, "prefix", "") or ""
    if isinstance(prefix, str) and prefix and "{{" not in prefix and value.startswith(prefix):
        return prefix + MASK
    scheme = CREDENTIAL_SCHEME.match(value)
    return (scheme.group(0) if scheme else "") + MASK


def _masked_query_parameter(url: str, name: str) -> str:
    parts = urlsplit(url)
    pairs = [f"{key}={MASK}" if _unquote_key(key) == name else f"{key}={val}" if sep else key
             for key, sep, val in (item.partition("=") for item in parts.query.split("&") if item)]
    return urlunsplit(parts._replace(query="&".join(pairs)))


def _unquote_key(key: str) -> str:
    return unquote_plus(key)


# ---------------------------------------------------------------- curl → provider draft

class CurlError(ValueError):
    """The command is not a curl command the draft can be made from; the message quotes no value."""


@dataclass
class CurlRequest:
    """What a curl command sends, as curl would send it."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    data: list[str] = field(default_factory=list)  # the -d parts, joined by '&' as curl does
    user: str | None = None
    insecure: bool = False
    max_time_s: float | None = None
    json_flag: bool = False
    ignored: list[str] = field(default_factory=list)


# Options that take a value and change nothing the draft needs.
_IGNORED_WITH_VALUE = {"-o", "--output", "-A", "--user-agent", "-e", "--referer", "--connect-timeout",
                       "-w", "--write-out", "--retry", "-x", "--proxy", "-b", "--cookie", "-c", "--cookie-jar",
                       "--cacert", "--cert", "--key", "-E", "--limit-rate", "--resolve", "--retry-delay"}
_DATA_OPTIONS = {"-d", "--data", "--data-raw", "--data-binary", "--data-ascii"}


def parse_curl(command: str) -> CurlRequest:
    """Read the options of a curl command that matter to a provider request."""
    text = re.sub(r"\\\r?\n", " ", command.strip())  # shell line continuations
    text = re.sub(r"\^\r?\n", " ", text)  # cmd.exe line continuations, as some docs print them
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CurlError(f"cannot read the command as a shell would: {exc}") from None
    if words and words[0].lstrip("$ ").endswith("curl"):
        words = words[1:]
    elif words and words[0] == "$" and len(words) > 1 and words[1] == "curl":
        words = words[2:]
    method: str | None = None
    url: str | None = None
    parsed = CurlRequest(method="", url="")
    get_mode = False
    encoded: list[str] = []
    index = 0

    def value_of(option: str) -> str:
        nonlocal index
        index += 1
        if index >= len(words):
            raise CurlError(f"option {option} needs a value")
        return words[index]

    while index < len(words):
        word = words[index]
        option, attached = word, None
        if word.startswith("--") and "=" in word and word.split("=", 1)[0] in ("--request", "--header", "--url"):
            option, attached = word.split("=", 1)
        elif re.match(r"^-[XHdu][^-]", word) and len(word) > 2:
            option, attached = word[:2], word[2:]

        def take(o: str = option) -> str:
            return attached if attached is not None else value_of(o)

        if option in ("-X", "--request"):
            method = take().upper()
        elif option in ("-H", "--header"):
            name, colon, value = take().partition(":")
            if colon:
                parsed.headers.append((name.strip(), value.strip()))
        elif option in _DATA_OPTIONS:
            parsed.data.append(take())
        elif option == "--data-urlencode":
            encoded.append(take())
        elif option == "--json":
            parsed.data.append(take())
            parsed.json_flag = True
        elif option in ("-u", "--user"):
            parsed.user = take()
        elif option in ("-G", "--get"):
            get_mode = True
        elif option in ("-k", "--insecure"):
            parsed.insecure = True
        elif option in ("-m", "--max-time"):
            try:
                parsed.max_time_s = float(take())
            except ValueError:
                pass
        elif option == "--url":
            url = take()
        elif option in ("-F", "--form"):
            take()
            parsed.ignored.append("-F/--form (multipart bodies are not supported: use a form or JSON body)")
        elif option in _IGNORED_WITH_VALUE:
            take()
        elif word.startswith("-") and len(word) > 1:
            pass  # flags such as -s, -v, -L, -i, --compressed change nothing sent
        elif url is None:
            url = word
        else:
            parsed.ignored.append(f"extra argument {word[:40]!r}")
        index += 1

    if not url:
        raise CurlError("the command has no URL")
    if "://" not in url:
        url = "https://" + url
    for item in encoded:
        name, equals, content = item.partition("=")
        if item.startswith("@") or (not equals and name.startswith("@")):
            parsed.ignored.append(f"--data-urlencode {item[:40]!r} reads a file")
            continue
        if not equals:
            parsed.data.append(quote_plus(item))
        else:
            parsed.data.append(f"{name}={quote_plus(content)}" if name else quote_plus(content))
    for part in parsed.data:
        if part.startswith("@"):
            raise CurlError("the body is read from a file (-d @file): paste the body itself into the command")
    if get_mode and parsed.data:
        separator = "&" if urlsplit(url).query else "?"
        url = url + separator + "&".join(parsed.data)
        parsed.data = []
    parsed.url = url
    parsed.method = method or ("GET" if get_mode or not parsed.data else "POST")
    return parsed


@dataclass
class CurlDraft:
    """A provider configuration drafted from a curl command: `config` still holds the secrets
    found in the command (at `secret_paths`), for saving; mask them before showing it."""

    config: dict[str, Any]
    secret_paths: list[str]
    notes: list[str]


# Keys whose value is the recipient, the text or the sender in providers' APIs (compared lower-cased,
# without '_' and '-').
_TO_KEYS = {"to", "recipient", "recipients", "destination", "destinations", "msisdn", "phone", "phonenumber",
            "number", "numbers", "mobile", "mobiles", "dest", "receiver", "receivers", "destinationnumber", "tonumber",
            "destinationaddress", "address"}
_TEXT_KEYS = {"text", "message", "body", "msg", "content", "sms", "messagetext", "smstext"}
_SENDER_KEYS = {"from", "sender", "source", "originator", "senderid", "src", "sourceaddress", "fromnumber",
                "sendername"}
_KEY_HEADERS = {"x-api-key", "api-key", "apikey", "x-auth-token", "x-api-token", "x-access-token", "token",
                "x-token", "authkey", "x-authorization"}
_KEY_PARAMS = {"api_key", "apikey", "api-key", "key", "token", "access_token", "auth_token", "authkey", "apitoken",
               "api_token", "password", "pass", "api_secret", "secret"}
_PHONE = re.compile(r"^\+?\d[\d ]{6,17}$")


def provider_draft(command: str, provider_id: str | None = None) -> CurlDraft:
    """A provider draft from a provider's sample curl command: URL, method, headers, body (JSON
    or form), and credentials as `auth`; recognisable recipient, text and sender values become
    `{{to}}`, `{{text}}` and `{{sender}}`."""
    curl = parse_curl(command)
    notes: list[str] = list(f"ignored: {item}" for item in curl.ignored)
    parts = urlsplit(curl.url)
    if not parts.hostname:
        raise CurlError("the URL has no host name")
    config: dict[str, Any] = {"id": provider_id or _id_from_host(parts.hostname),
                              "name": f"Imported from curl ({parts.hostname})"}
    auth: dict[str, Any] | None = None
    secret_paths: list[str] = []

    query = parse_qsl(parts.query, keep_blank_values=True)
    remaining_query: list[tuple[str, str]] = []
    for key, value in query:
        if auth is None and key.lower() in _KEY_PARAMS and value:
            auth = {"type": "api_key", "query": key, "token": value}
            secret_paths.append("auth.token")
            notes.append(f"query parameter {key!r} taken as the API key (auth.type api_key, query)")
        else:
            remaining_query.append((key, value))
    remaining_query = [(key, _placeholder_for(key, value, notes, "query")) for key, value in remaining_query]

    headers: dict[str, str] = {}
    content_type_header: str | None = None
    for name, value in curl.headers:
        lower = name.lower()
        if lower == "content-type":
            content_type_header = value.lower()
            continue
        if lower == "content-length":
            continue
        if auth is None and lower == "authorization":
            auth = _auth_from_authorization(value, notes, secret_paths)
            if auth is not None:
                continue
        if auth is None and lower in _KEY_HEADERS and value:
            auth = {"type": "api_key", "header": name, "token": value}
            secret_paths.append("auth.token")
            notes.append(f"header {name!r} taken as the API key (auth.type api_key, header)")
            continue
        headers[name] = value
    if curl.user is not None:
        user, _, password = curl.user.partition(":")
        if auth is None:
            auth = {"type": "basic", "username": user, "password": password}
            secret_paths.append("auth.password")
            notes.append("-u user:password taken as HTTP Basic (auth.type basic)")
            if not password:
                notes.append("the command gives no password after the user name: fill in auth.password")
        else:
            notes.append("-u ignored: the credentials were already found in a header or the query")

    body_text = "&".join(curl.data) if curl.data else None
    request: dict[str, Any] = {"url": urlunsplit(parts._replace(query="", fragment="")), "method": curl.method}
    if curl.method not in ("GET", "POST"):
        notes.append(f"method {curl.method} is not supported (GET or POST): the draft uses POST")
        request["method"] = "POST"
    if remaining_query:
        request["query"] = dict(remaining_query)
    if body_text is None:
        request["content_type"] = "none" if request["method"] == "GET" else "form"
        if request["content_type"] == "form":
            request["body"] = {}
    else:
        document = _json_or_none(body_text)
        wants_json = curl.json_flag or (content_type_header or "").startswith("application/json") or (
            content_type_header is None and isinstance(document, (dict, list)))
        if wants_json and document is not None:
            request["content_type"] = "json"
            request["body"] = _json_placeholders(document, notes, "body")
        else:
            if wants_json:
                notes.append("the body is said to be JSON but does not parse as JSON: it is kept as a form")
            request["content_type"] = "form"
            pairs = parse_qsl(body_text, keep_blank_values=True)
            pairs = [(key, _placeholder_for(key, value, notes, "form")) for key, value in pairs]
            keys = [key for key, _ in pairs]
            request["body"] = [list(p) for p in pairs] if len(set(keys)) < len(keys) else dict(pairs)
        if request["method"] == "GET":
            notes.append("a GET with a body is not supported: the draft uses POST")
            request["method"] = "POST"
    if headers:
        request["headers"] = headers
    config["request"] = request
    if auth is not None:
        config["auth"] = auth
    if curl.insecure:
        config["verify_tls"] = False
        notes.append("-k/--insecure: verify_tls is false in the draft; set it back to true if you can")
    if curl.max_time_s:
        config["timeout_s"] = min(max(curl.max_time_s, 1), 60)
    if not any("{{to" in note or "{{text}}" in note for note in notes):
        notes.append("no recipient or text field was recognised: put {{to}} and {{text}} where they belong")
    return CurlDraft(config=config, secret_paths=secret_paths, notes=notes)


def _id_from_host(host: str) -> str:
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) >= 2:
        labels = labels[:-1]  # the top-level domain says nothing of the provider
    generic = {"api", "www", "rest", "sms", "gateway", "app", "platform", "co", "com", "v1", "v2"}
    meaningful = [label for label in labels if label not in generic] or labels
    name = re.sub(r"[^a-z0-9_-]", "-", meaningful[-1])[:64].strip("-_") or "imported"
    return name if name[0].isalnum() else "p" + name


def _auth_from_authorization(value: str, notes: list[str], secret_paths: list[str]) -> dict[str, Any] | None:
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic" and credentials:
        try:
            user, colon, password = base64.b64decode(credentials, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, colon, password = "", "", ""
        if colon:
            secret_paths.append("auth.password")
            notes.append("Authorization: Basic taken as HTTP Basic (auth.type basic)")
            return {"type": "basic", "username": user, "password": password}
    if credentials and scheme:
        secret_paths.append("auth.token")
        notes.append(f"Authorization: {scheme} taken as an API key sent as 'Authorization: {scheme} <token>' "
                     "(auth.type api_key)")
        return {"type": "api_key", "header": "Authorization", "prefix": scheme + " ", "token": credentials}
    if scheme:
        secret_paths.append("auth.token")
        notes.append("the Authorization header taken as an API key (auth.type api_key)")
        return {"type": "api_key", "header": "Authorization", "token": scheme}
    return None


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _normal_key(key: str) -> str:
    return re.sub(r"[_\-\s]", "", key.lower())


def _placeholder_for(key: str, value: Any, notes: list[str], where: str) -> Any:
    """The placeholder a sample value stands for, judged from its key (and, for numbers, its shape)."""
    normal = _normal_key(key)
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return value
    text = str(value)
    if normal in _TO_KEYS and _PHONE.match(text.strip()):
        placeholder = "{{to}}" if text.strip().startswith("+") else "{{to_digits}}"
    elif normal in _TEXT_KEYS and isinstance(value, str):
        placeholder = "{{text}}"
    elif normal in _SENDER_KEYS and isinstance(value, str):
        placeholder = "{{sender}}"
    else:
        return value
    notes.append(f"{where} {key!r}: the sample value replaced by {placeholder}")
    return placeholder


def _json_placeholders(node: Any, notes: list[str], where: str, key: str | None = None) -> Any:
    if isinstance(node, dict):
        return {k: _json_placeholders(v, notes, where, k) for k, v in node.items()}
    if isinstance(node, list):
        if key is not None and len(node) >= 1 and all(isinstance(v, (str, int)) for v in node):
            first = _placeholder_for(key, node[0], notes, where)
            if first != node[0]:
                return [first]  # one recipient per message: the sample's list becomes that one
        return [_json_placeholders(v, notes, where, key) for v in node]
    if key is not None:
        return _placeholder_for(key, node, notes, where)
    return node


def mask_paths(document: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy of `document` with the values at the dotted `paths` replaced by the mask."""
    masked = json.loads(json.dumps(document))
    for dotted in paths:
        *parents, leaf = dotted.split(".")
        node: Any = masked
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and leaf in node and node[leaf] not in (None, ""):
            node[leaf] = MASK
    return masked
