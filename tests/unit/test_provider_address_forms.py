"""SSRF through the spellings of an internal address: each form a resolver or a URL parser turns into a
loopback, private or metadata address is refused by `check_provider_url` for a deployed bridge, before any
connection (the unit tests run with the network off: a connection attempt would fail them)."""
from __future__ import annotations

import pytest

from smsbridge.adapters.http import UrlNotAllowed, check_provider_url

# Each URL with the words its refusal must hold: what the address really is, or why the URL is unreadable.
DISGUISED = {
    "https://0x7f.0.0.1/": "127.0.0.1, which is a loopback",  # hexadecimal octet (inet_aton)
    "https://0177.0.0.1/": "127.0.0.1, which is a loopback",  # octal octet
    "https://127.1/": "127.0.0.1, which is a loopback",  # short form
    "https://0x7f000001/": "127.0.0.1, which is a loopback",  # one hexadecimal number
    "https://0/": "the unspecified address",  # 0.0.0.0 reaches the local host on Linux
    "https://[::]/": "the unspecified address",
    "https://[0:0:0:0:0:ffff:7f00:1]/": "::ffff:127.0.0.1, which is a loopback",  # IPv4-mapped, written long
    "https://[::ffff:a9fe:a9fe]/": "metadata",  # 169.254.169.254, IPv4-mapped in hexadecimal
    "https://[64:ff9b::a9fe:a9fe]/": "metadata",  # the same through NAT64
    "https://[2002:7f00:1::]/": "loopback",  # 6to4 carrying 127.0.0.1
    "https://[fd00:ec2::254]/": "metadata",  # AWS instance metadata over IPv6
    "https://169.254.170.2/v2/credentials": "metadata",  # ECS task credentials
    "https://100.64.0.1/": "not a public address",  # carrier-grade NAT
    "https://198.18.0.1/": "private",  # benchmarking range
    "https://[fc00::1]/": "private",  # unique local IPv6
    "https://LOCALHOST/": "loopback",
    "https://sms.example.com@127.0.0.1/": "127.0.0.1 is a loopback",  # user info before the real host
    "https://127.0.0.1#@sms.example.com/": "127.0.0.1 is a loopback",  # the fragment hides nothing
    "https://127.0.0.1?@sms.example.com/": "127.0.0.1 is a loopback",
    "https://%31%32%37.0.0.1/": "not a valid URL",  # percent-encoded host: parsers disagree
    "https://[fe80::1%25eth0]/": "not a valid URL",  # a zone id: parsers disagree
    "https://127\u30020\u30020\u30021/": "not a valid URL",  # ideographic full stops, as IDNA would fold them
    "file:///etc/passwd": "https",
    "gopher://127.0.0.1:6379/_INFO": "https",
    "http://sms.example.com/": "https",
}


@pytest.mark.parametrize("url", list(DISGUISED))
def test_given_an_internal_address_in_disguise_when_a_deployed_bridge_checks_it_then_it_is_refused_saying_why(
        url: str) -> None:
    with pytest.raises(UrlNotAllowed) as refused:
        check_provider_url(url, local_runtime=False)

    assert DISGUISED[url] in str(refused.value)


@pytest.mark.parametrize("url", ["http://0x7f.0.0.1:4010/v1/messages", "http://127.1:4010/v1/messages"])
def test_given_loopback_in_disguise_when_the_local_runtime_checks_it_then_it_is_the_sandbox_and_allowed(url: str) -> None:
    # The local runtime allows loopback (its sandbox provider): a disguise changes nothing either way.
    check_provider_url(url, local_runtime=True)


def test_given_a_public_address_when_a_deployed_bridge_checks_it_then_it_is_allowed() -> None:
    # The refusals above are about the addresses, not a refusal of everything.
    check_provider_url("https://93.184.215.14/sms", local_runtime=False)
