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
from urllib.parse import parse_qsl, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

import phonenumbers

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
    # bash's $'...' quoting (Vonage's samples) read as '...': the samples use no escape inside it.
    text = re.sub(r"(^|\s)\$'", r"\1'", text)
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


@dataclass(frozen=True)
class Unfilled:
    """A shell variable or documentation placeholder the sample left for the user to fill."""

    where: str  # dotted path in the draft, e.g. "request.url" or "secrets.api_key"
    token: str  # the placeholder as it stands in the sample, e.g. "$TO_NUMBER" or "{auth_id}"
    kind: str  # "shell variable" or "documentation placeholder"

    @property
    def message(self) -> str:
        return f"{self.where}: {self.kind} {self.token} left to fill"


@dataclass
class CurlDraft:
    """A provider configuration drafted from a curl command: `config` still holds the secrets
    found in the command (at `secret_paths`), for saving; `shown()` is what may be answered.
    `unfilled` lists the placeholders the sample left: the draft is not valid until they are filled."""

    config: dict[str, Any]
    secret_paths: list[str]
    notes: list[str]
    unfilled: list[Unfilled] = field(default_factory=list)

    def shown(self) -> dict[str, Any]:
        """The draft with its secrets masked, except those that are only a placeholder (nothing
        secret in `$VONAGE_API_KEY`, and the user needs to see what to fill)."""
        placeholders = {item.where for item in self.unfilled
                        if _whole_placeholder(_at_path(self.config, item.where), item.token)}
        return mask_paths(self.config, [path for path in self.secret_paths if path not in placeholders])


# Keys whose value is the recipient, the text or the sender in providers' APIs (compared lower-cased,
# without '_', '-' and spaces).
_TO_KEYS = {"to", "dst", "dest", "destination", "destinations", "recipient", "recipients", "msisdn", "msisdns",
            "phone", "phones", "phonenumber", "phonenumbers", "mobile", "mobiles", "mobilenumber", "number",
            "numbers", "receiver", "receivers", "tonumber", "destinationnumber", "destinationaddress",
            "recipientnumber", "recipientphone", "address", "addresses"}
_TEXT_KEYS = {"text", "message", "body", "msg", "content", "sms", "messagetext", "smstext", "messagebody",
              "txtmessage", "textmessage", "smsbody", "messagecontent"}
_SENDER_KEYS = {"from", "src", "sender", "senderid", "source", "originator", "sourceaddress", "sourceaddr",
                "fromnumber", "sendername", "sourcenumber", "origin", "fromaddress"}
# Keys that say only "a number" or "an address": their role comes from the object they sit in
# (Vonage's {"from": {"type": "sms", "number": ...}} is the sender, not the recipient).
_ROLE_FROM_PARENT = {"number", "phone", "phonenumber", "address", "msisdn", "value", "id"}

# Credentials by name: exact names, and names ending so (X-TM-Key, X-LOX24-AUTH-TOKEN, api_secret).
_CREDENTIAL_NAMES = {"apikey", "apisecret", "secret", "token", "accesstoken", "authtoken", "apitoken", "password",
                     "pass", "passwd", "pwd", "authkey", "key", "accesskey", "secretkey", "privatekey",
                     "clientsecret", "appkey", "appsecret", "authorization", "proxyauthorization", "apipassword",
                     "licensekey", "applicationtoken", "auth", "signature"}
_CREDENTIAL_ENDINGS = ("key", "token", "secret", "password", "passwd")
_NOT_CREDENTIALS = {"idempotencykey", "publickey", "keyword", "sortkey", "partitionkey", "messagekey"}
# Credentials by shape: an authorization scheme and a token, whatever the header is called.
_SCHEME_VALUE = re.compile(r"^(Basic|Bearer|Token|App|AccessKey|Key|MAC|Digest|HMAC|SSWS|ApiKey|Api-Key|"
                           r"AWS4-HMAC-SHA256|OAuth)\s+(\S.*)$", re.IGNORECASE)

_PHONE_SHAPE = re.compile(r"^\+?[\d][\d ().\-]{5,20}$")

# Placeholders left by documentation. Shell variables first: `${X}` would otherwise read as `{X}`.
_SHELL_VARIABLE = re.compile(r"(?<![\$\w])\$(?:\{[A-Za-z_][A-Za-z0-9_]*[^{}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_DOC_PLACEHOLDERS = [
    re.compile(r"(?<!\{)\{[A-Za-z_][\w .\-]*\}(?!\})"),  # {auth_id}, {YOUR_API_Token}; never our {{to}}
    re.compile(r"<[A-Za-z_][^<>]{0,60}>"),  # <API_KEY>, <your-api-key>
    re.compile(r"\[[A-Za-z_][^\[\]]{0,60}\]"),  # [AuthToken], [your key]
    re.compile(r"\b\w*[xX]{4,}\w*"),  # xxxx, ACXXXXXXXX, +31XXXXXXXXX
    re.compile(r"(?i)\b(?:your|my)[_\-]?[a-z0-9][a-z0-9_\-]{2,}"),  # YOUR_API_KEY, YourAuthorizationTokenHere
    re.compile(r"(?i)\b(?:replace[_\-]?me|change[_\-]?me|insert[_\-]\w+|enter[_\-]\w+|put[_\-]your\w*)\b"),
    # AUTH_TOKEN, TO_NUMBER, CHANNEL-ID: upper-case words joined, one of them naming what to put there
    re.compile(r"\b[A-Z]{2,}(?:[_\-][A-Z]{2,})+\b"),
]
_PLACEHOLDER_WORDS = {"KEY", "TOKEN", "SECRET", "ID", "SID", "PASSWORD", "USERNAME", "USER", "NUMBER", "PHONE",
                      "ACCOUNT", "AUTH", "API", "SENDER", "CHANNEL", "NAME", "MSISDN", "HERE", "LOGIN"}
# A credential that is only one of these words is the documentation's name for it, not a value.
_GENERIC_CREDENTIALS = {"username", "user", "password", "pass", "secret", "token", "apikey", "api_key", "key",
                        "login", "authtoken", "auth_token", "accesskey", "access_key"}


def provider_draft(command: str, provider_id: str | None = None) -> CurlDraft:
    """A provider draft from a provider's sample curl command.

    URL, method, headers and body (JSON or form) are kept; every credential found (by name or by
    shape, in the headers, the query, the body or `-u`) goes into `auth` or into `secrets` with
    `{{secrets.NAME}}` in its place; the recipient (by key, or any value that is a phone number),
    the text and the sender become `{{to}}`/`{{to_digits}}`, `{{text}}` and `{{sender}}`; shell
    variables and documentation placeholders left in the draft are listed in `unfilled`."""
    curl = parse_curl(command)
    try:
        parts = urlsplit(curl.url)
    except ValueError as exc:  # "Invalid IPv6 URL": a `[` in the host part
        raise CurlError(f"the URL cannot be read: {exc}") from None
    if not parts.hostname:
        raise CurlError("the URL has no host name")
    draft = _Drafting(notes=[f"ignored: {item}" for item in curl.ignored])
    config: dict[str, Any] = {"id": provider_id or _id_from_host(parts.hostname),
                              "name": f"Imported from curl ({parts.hostname})"}

    if curl.user is not None:
        user, _, password = curl.user.partition(":")
        draft.take_basic(user, password, "-u user:password")
        if not password:
            draft.notes.append("the command gives no password after the user name: fill in auth.password")
    if parts.username is not None:
        if draft.auth is None:
            draft.take_basic(unquote_plus(parts.username), unquote_plus(parts.password or ""), "the URL's user:password")
        else:
            draft.notes.append("credentials in the URL dropped: the command already authenticates otherwise")
        parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))

    headers: dict[str, str] = {}
    content_type_header: str | None = None
    for name, value in curl.headers:
        lower = name.lower()
        if lower == "content-type":
            content_type_header = value.lower()
        elif lower != "content-length":
            headers.update(draft.header(name, value))

    query = [pair for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if (pair := draft.query_pair(key, value)) is not None]
    path = "/".join(draft.path_segment(segment) for segment in parts.path.split("/"))
    request: dict[str, Any] = {"url": urlunsplit(parts._replace(path=path, query="", fragment="")),
                               "method": curl.method}
    if curl.method not in ("GET", "POST"):
        draft.notes.append(f"method {curl.method} is not supported (GET or POST): the draft uses POST")
        request["method"] = "POST"
    if query:
        keys = [key for key, _ in query]
        if len(set(keys)) < len(keys):
            draft.notes.append("a query parameter repeats in the sample: the draft keeps its last value")
        request["query"] = dict(query)

    body_text = "&".join(curl.data) if curl.data else None
    if body_text is None:
        request["content_type"] = "none" if request["method"] == "GET" else "form"
        if request["content_type"] == "form":
            request["body"] = {}
    else:
        document = _json_or_none(body_text)
        if document is None and (curl.json_flag or (content_type_header or "").startswith("application/json")):
            # Samples are typed by hand: a trailing comma before } or ] (CallFire's) is the usual slip.
            document = _json_or_none(re.sub(r",\s*([}\]])", r"\1", body_text))
            if document is not None:
                draft.notes.append("the sample's JSON body has a trailing comma: read without it")
        wants_json = curl.json_flag or (content_type_header or "").startswith("application/json") or (
            content_type_header is None and isinstance(document, (dict, list)))
        if wants_json and document is not None:
            request["content_type"] = "json"
            request["body"] = draft.json_node(document, "request.body", None, None)
        else:
            if wants_json:
                draft.notes.append("the body is said to be JSON but does not parse as JSON: it is kept as a form")
            request["content_type"] = "form"
            pairs = [draft.form_pair(key, value) for key, value in parse_qsl(body_text, keep_blank_values=True)]
            keys = [key for key, _ in pairs]
            request["body"] = [list(p) for p in pairs] if len(set(keys)) < len(keys) else dict(pairs)
        if request["method"] == "GET":
            draft.notes.append("a GET with a body is not supported: the draft uses POST")
            request["method"] = "POST"
    if headers:
        request["headers"] = headers
    config["request"] = request
    if draft.auth is not None:
        config["auth"] = draft.auth
    if draft.secrets:
        config["secrets"] = draft.secrets
    if curl.insecure:
        config["verify_tls"] = False
        draft.notes.append("-k/--insecure: verify_tls is false in the draft; set it back to true if you can")
    if curl.max_time_s:
        config["timeout_s"] = min(max(curl.max_time_s, 1), 60)
    if not draft.recipient_found:
        draft.notes.append("no recipient was recognised: put {{to}} (or {{to_digits}}) where the number goes")
    if not draft.text_found:
        draft.notes.append("no text field was recognised: put {{text}} where the message goes")
    unfilled = unfilled_placeholders(config)
    draft.notes.extend(item.message for item in unfilled)
    return CurlDraft(config=config, secret_paths=draft.secret_paths, notes=draft.notes, unfilled=unfilled)


@dataclass
class _Drafting:
    """What one draft collects while the command's parts are read."""

    notes: list[str]
    auth: dict[str, Any] | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    secret_paths: list[str] = field(default_factory=list)
    recipient_found: bool = False
    text_found: bool = False

    # ---- credentials

    def take_basic(self, user: str, password: str, source: str) -> None:
        self.auth = {"type": "basic", "username": user, "password": password}
        self.secret_paths.append("auth.password")
        self.notes.append(f"{source} taken as HTTP Basic (auth.type basic)")

    def secret(self, name: str, value: str, where: str) -> str:
        """Keep `value` in `secrets` under a name made from `name`; the template that stands for it."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_")[:60] or "secret"
        base = base if base[0].isalpha() else f"s_{base}"[:60]
        key, index = base, 2
        while key in self.secrets and self.secrets[key] != value:
            key, index = f"{base}_{index}", index + 1
        self.secrets[key] = value
        if f"secrets.{key}" not in self.secret_paths:
            self.secret_paths.append(f"secrets.{key}")
        self.notes.append(f"{where}: credential kept in secrets.{key} (Secrets Manager), "
                          f"{{{{secrets.{key}}}}} in its place")
        return f"{{{{secrets.{key}}}}}"

    def header(self, name: str, value: str) -> dict[str, str]:
        """The header as the draft keeps it: gone into `auth`, or with its credential in `secrets`."""
        scheme = _SCHEME_VALUE.match(value.strip())
        by_name = name.lower() in ("authorization", "proxy-authorization") or _is_credential_name(name)
        if not (by_name or scheme) or not value.strip():
            return {name: value}
        where = f"request.headers.{name}"
        if self.auth is None:
            if name.lower() == "authorization":
                self.auth = _auth_from_authorization(value, self.notes, self.secret_paths)
            elif scheme:
                self.auth = {"type": "api_key", "header": name, "prefix": scheme.group(1) + " ",
                             "token": scheme.group(2).strip()}
                self.secret_paths.append("auth.token")
                self.notes.append(f"header {name!r} taken as an API key sent as '{scheme.group(1)} <token>' "
                                  "(auth.type api_key, header)")
            else:
                self.auth = {"type": "api_key", "header": name, "token": value.strip()}
                self.secret_paths.append("auth.token")
                self.notes.append(f"header {name!r} taken as the API key (auth.type api_key, header)")
            return {}
        if scheme:
            return {name: f"{scheme.group(1)} " + self.secret(name, scheme.group(2).strip(), where)}
        return {name: self.secret(name, value.strip(), where)}

    def query_pair(self, key: str, value: str) -> tuple[str, str] | None:
        """The query parameter as the draft keeps it; None when `auth` now adds it at send time."""
        if value and (_is_credential_name(key) or _SCHEME_VALUE.match(value)):
            if self.auth is None:
                self.auth = {"type": "api_key", "query": key, "token": value}
                self.secret_paths.append("auth.token")
                self.notes.append(f"query parameter {key!r} taken as the API key (auth.type api_key, query)")
                return None
            return key, self.secret(key, value, f"request.query.{key}")
        return key, self.leaf(key, value, f"request.query.{key}", None)

    def form_pair(self, key: str, value: str) -> tuple[str, str]:
        if value and (_is_credential_name(key) or _SCHEME_VALUE.match(value)):
            return key, self.secret(key, value, f"request.body.{key}")
        return key, self.leaf(key, value, f"request.body.{key}", None)

    def path_segment(self, segment: str) -> str:
        # A path's '+' is a plus sign (`+` reads as a space only in a query or a form body).
        if _phone_digits(unquote(segment), strict=True):
            self.recipient_found = True
            self.notes.append(f"request.url: the number {segment} in the path replaced by the recipient")
            return "{{to}}" if unquote(segment).startswith("+") else "{{to_digits}}"
        return segment

    # ---- recipient, text, sender

    def json_node(self, node: Any, where: str, key: str | None, inherited: str | None) -> Any:
        if isinstance(node, dict):
            role = _role_of(key, inherited)
            return {k: self.json_value(k, v, f"{where}.{k}", role) for k, v in node.items()}
        if isinstance(node, list):
            return self.json_list(node, where, key, inherited)
        return self.leaf(key, node, where, inherited) if key is not None else node

    def json_value(self, key: str, value: Any, where: str, inherited: str | None) -> Any:
        if isinstance(value, str) and value and (_is_credential_name(key) or _SCHEME_VALUE.match(value)):
            return self.secret(key, value, where)
        return self.json_node(value, where, key, inherited)

    def json_list(self, node: list[Any], where: str, key: str | None, inherited: str | None) -> list[Any]:
        role = _role_of(key, inherited)
        scalars = node and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in node)
        if role == "to" and scalars:
            first = self.leaf(key, node[0], where, inherited)
            if first != node[0]:
                if len(node) > 1:
                    self.notes.append(f"{where}: the sample's {len(node)} recipients become one, {first}, per "
                                      "message (set request.batch to send many in one request)")
                return [first]
        if scalars and role is None and all(isinstance(v, str) and _phone_digits(v, strict=True) for v in node):
            self.recipient_found = True
            placeholder = "{{to}}" if str(node[0]).startswith("+") else "{{to_digits}}"
            self.notes.append(f"{where}: the list of numbers replaced by [{placeholder}]")
            return [placeholder]
        return [self.json_node(v, f"{where}[{i}]", key if not isinstance(v, (dict, list)) else None,
                               role) for i, v in enumerate(node)]

    def leaf(self, key: str | None, value: Any, where: str, inherited: str | None) -> Any:
        """The placeholder a sample value stands for, judged from its key, its parent, or its shape."""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return value
        role = _role_of(key, inherited) if key is not None else inherited
        text = str(value).strip()
        placeholder_value = isinstance(value, str) and _is_placeholder_value(text)
        if role == "to" and (_recipients(text) or placeholder_value):
            self.recipient_found = True
            digits_only = not text.startswith("+") and (_recipients(text) or re.match(r"^\d", text))
            placeholder = "{{to_digits}}" if digits_only else "{{to}}"
        elif role == "text" and isinstance(value, str):
            self.text_found = True
            placeholder = "{{text}}"
        elif role == "sender" and isinstance(value, str):
            placeholder = "{{sender}}"
        elif role is None and isinstance(value, str) and _recipients(text, strict=True):
            self.recipient_found = True
            placeholder = "{{to}}" if text.startswith("+") else "{{to_digits}}"
        else:
            return value
        shown = f" {text!r}" if len(text) <= 40 else ""
        self.notes.append(f"{where}: the sample value{shown} replaced by {placeholder}")
        return placeholder


def _role_of(key: str | None, inherited: str | None) -> str | None:
    if key is None:
        return inherited
    normal = _normal_key(key)
    if normal in _ROLE_FROM_PARENT and inherited in ("to", "sender"):
        return inherited
    if normal in _TO_KEYS:
        return "to"
    if normal in _TEXT_KEYS:
        return "text"
    if normal in _SENDER_KEYS:
        return "sender"
    return None


def _is_credential_name(name: str) -> bool:
    normal = _normal_key(name).removeprefix("x")
    if normal in _NOT_CREDENTIALS or _normal_key(name) in _NOT_CREDENTIALS:
        return False
    return normal in _CREDENTIAL_NAMES or _normal_key(name) in _CREDENTIAL_NAMES or normal.endswith(
        _CREDENTIAL_ENDINGS)


def _phone_digits(text: str, *, strict: bool) -> str | None:
    """The number's digits when `text` is shaped as one; with `strict`, only when `phonenumbers`
    finds it a valid number (a value under no recipient key must really be one)."""
    if not _PHONE_SHAPE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 15:
        return None
    if strict:
        try:
            parsed = phonenumbers.parse("+" + digits)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(parsed):
            return None
    return digits


def _recipients(text: str, *, strict: bool = False) -> bool:
    """One number, or several separated by commas or semicolons (Textlocal's `numbers`)."""
    items = [item.strip() for item in re.split(r"[,;]", text) if item.strip()]
    return bool(items) and all(_phone_digits(item, strict=strict) for item in items)


def _is_placeholder_value(text: str) -> bool:
    return bool(_SHELL_VARIABLE.search(text) or any(_doc_match(pattern, text) for pattern in _DOC_PLACEHOLDERS))


def _doc_match(pattern: re.Pattern[str], text: str) -> list[str]:
    found = [m.group(0) for m in pattern.finditer(text)]
    if pattern is _DOC_PLACEHOLDERS[-1]:
        found = [token for token in found if set(re.split(r"[_\-]", token)) & _PLACEHOLDER_WORDS]
    return found


def unfilled_placeholders(config: dict[str, Any]) -> list[Unfilled]:
    """Every shell variable and documentation placeholder in a draft, where it stands."""
    found: list[Unfilled] = []
    for where, text, credential in _strings_of(config):
        taken: list[tuple[int, int]] = []
        for match in _SHELL_VARIABLE.finditer(text):
            taken.append(match.span())
            found.append(Unfilled(where, match.group(0), "shell variable"))
        for pattern in _DOC_PLACEHOLDERS:
            for match in pattern.finditer(text):
                start, end = match.span()
                if any(start < t_end and t_start < end for t_start, t_end in taken):
                    continue
                if not _doc_match(pattern, match.group(0)):
                    continue
                taken.append(match.span())
                found.append(Unfilled(where, match.group(0), "documentation placeholder"))
        if credential and not taken and text.strip().lower() in _GENERIC_CREDENTIALS:
            found.append(Unfilled(where, text.strip(), "documentation placeholder"))
    # Part of a credential is quoted only when the placeholder is the whole value: a real key that
    # merely contains "xxxx" must not leak into notes and errors.
    return [item if not _is_credential_path(item.where) or _whole_placeholder(_at_path(config, item.where), item.token)
            else Unfilled(item.where, "(in the masked value)", item.kind) for item in found]


def _is_credential_path(where: str) -> bool:
    return where.startswith("secrets.") or where in ("auth.password", "auth.token")


def _strings_of(config: dict[str, Any]) -> Iterable[tuple[str, str, bool]]:
    """(where, text, is a credential) for each string a user may have to fill."""
    request = config.get("request", {})
    yield "request.url", request.get("url", ""), False
    for section in ("headers", "query"):
        for key, value in (request.get(section) or {}).items():
            yield f"request.{section}.{key}", value, False
    yield from _json_strings(request.get("body"), "request.body")
    for key, value in (config.get("auth") or {}).items():
        if key in ("username", "password", "token") and isinstance(value, str):
            yield f"auth.{key}", value, True
    for key, value in (config.get("secrets") or {}).items():
        yield f"secrets.{key}", value, True


def _json_strings(node: Any, where: str) -> Iterable[tuple[str, str, bool]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _json_strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
                yield f"{where}.{value[0]}", value[1], False  # a form body's [key, value] pair
            else:
                yield from _json_strings(value, f"{where}[{index}]")
    elif isinstance(node, str):
        yield where, node, False


def _whole_placeholder(value: Any, token: str) -> bool:
    return isinstance(value, str) and value.strip() == token


def _at_path(document: dict[str, Any], dotted: str) -> Any:
    node: Any = document
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _id_from_host(host: str) -> str:
    if re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]+\]?", host):
        return "imported"  # an IP address names no provider
    labels = [label for label in host.lower().split(".") if label]
    if len(labels) >= 2:
        labels = labels[:-1]  # the top-level domain says nothing of the provider
    generic = {"api", "www", "rest", "sms", "gateway", "app", "platform", "co", "com", "v1", "v2", "messaging"}
    meaningful = [label for label in labels if label not in generic and not label.isdigit()] or labels
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
    secret_paths.append("auth.token")
    notes.append("the Authorization header taken as an API key (auth.type api_key)")
    return {"type": "api_key", "header": "Authorization", "token": scheme}


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _normal_key(key: str) -> str:
    return re.sub(r"[_\-\s]", "", key.lower())


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
