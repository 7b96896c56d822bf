"""API tokens from the environment, and the refusal to expose the API unauthenticated."""

import logging

import pytest

from kg.errors import ConfigError
from serving.api import create_app
from serving.auth import is_loopback, read_tokens
from serving.config import CacheSection, ServeSection

TOKEN = "t0k3n-" + "a" * 16


def test_tokens_come_from_every_variable_named_comma_separated_in_order() -> None:
    environ = {"A": f" {TOKEN}1, ,{TOKEN}2 ", "B": f"{TOKEN}3", "EMPTY": ""}
    tokens = read_tokens(["A", "UNSET", "EMPTY", "B"], environ)
    assert [t.get_secret_value() for t in tokens] == [f"{TOKEN}1", f"{TOKEN}2", f"{TOKEN}3"]
    assert TOKEN not in repr(tokens)  # SecretStr: a token never reaches a log by accident
    assert read_tokens(["UNSET"], {}) == []


@pytest.mark.parametrize("bad", ["short", "has a space inside it", "quote\"" + "x" * 20])
def test_an_unusable_token_stops_start_up_naming_the_variable_not_the_token(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"API token 2 in \$API_TOKENS \(serve.token_env\)") as refused:
        read_tokens(["API_TOKENS"], {"API_TOKENS": f"{TOKEN},{bad}"})
    assert bad not in str(refused.value) and TOKEN not in str(refused.value)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("api.internal", False),
])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_an_exposed_host_without_tokens_is_refused_unless_allowed_then_warned(
        caplog: pytest.LogCaptureFixture) -> None:
    cache = CacheSection(url="redis://127.0.0.1:1/0")  # never connected: the app is only built
    with pytest.raises(ConfigError, match=r"'0.0.0.0'.*\$KGREC_API_TOKENS.*serve.allow_unauthenticated"):
        create_app(cache, ServeSection(host="0.0.0.0"), environ={})
    create_app(cache, ServeSection(host="0.0.0.0"), environ={"KGREC_API_TOKENS": TOKEN})
    create_app(cache, ServeSection(host="127.0.0.1"), environ={})
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="kgrec"):
        create_app(cache, ServeSection(host="0.0.0.0", allow_unauthenticated=True), environ={})
    assert "UNAUTHENTICATED on 0.0.0.0" in caplog.text
