"""checked_settings: each kind of bad configuration is one line naming its variable, never a token's value; a
good one passes whole. (That `kb` and uvicorn print it and stop before starting anything: test_config.py.)"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from service.app import create_app
from service.config import Settings
from service.config_check import ConfigError, checked_settings

TOKEN = "a-token-long-enough-0123"
QUERY = "{ __typename }"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of this process's settings: each test sets its own."""
    for name in list(os.environ):
        if name.startswith(("NEO4J_", "KB_")) or name in {"PORT", "HOST", "LOG_LEVEL"}:
            monkeypatch.delenv(name)


def refusal(monkeypatch: pytest.MonkeyPatch, **variables: str) -> str:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        checked_settings()
    message = str(refused.value)
    assert "\n" not in message
    return message


def manifest(tmp_path: Path, content: str, name: str = "manifest.json") -> str:
    path = tmp_path / name
    path.write_text(content)
    return str(path)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"PORT": "abc"}, "PORT: Input should be a valid integer, unable to parse string as an integer"),
        ({"PORT": "70000"}, "PORT: Input should be less than or equal to 65535"),
        ({"KB_MAX_DEPTH": "0"}, "KB_MAX_DEPTH: Input should be greater than or equal to 1"),
        ({"NEO4J_RETRY_TIME": "-1"}, "NEO4J_RETRY_TIME: Input should be greater than or equal to 0"),
        ({"KB_INTROSPECTION": "maybe"}, "KB_INTROSPECTION: Input should be a valid boolean, unable to interpret input"),
        (
            {"LOG_LEVEL": "loud"},
            "LOG_LEVEL: Input should be 'critical', 'error', 'warning', 'info', 'debug' or 'trace'",
        ),
        (
            {"PORT": "abc", "KB_MAX_DEPTH": "0"},
            "PORT: Input should be a valid integer, unable to parse string as an integer; "
            "KB_MAX_DEPTH: Input should be greater than or equal to 1",
        ),
        ({"KB_TOKENS": "short-token:admin"}, "KB_TOKENS: tokens must be at least 16 characters"),
        ({"KB_TOKENS": f"{TOKEN}:owner"}, "KB_TOKENS: entry 'a-to…' must be token:reader|writer|admin[:YYYY-MM-DD]"),
        ({"KB_TOKENS": f"{TOKEN}:admin:2027-02-30"}, "KB_TOKENS: entry 'a-to…' has no such date: 2027-02-30"),
        (
            {"KB_ALLOW_LIST_ONLY": "true"},
            "KB_ALLOW_LIST_ONLY needs KB_PERSISTED_QUERIES: a manifest of the allowed operations",
        ),
    ],
)
def test_each_problem_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], message: str
) -> None:
    assert refusal(monkeypatch, **variables) == message


def test_a_tokens_value_is_never_told(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in (f"{TOKEN}:owner", f"{TOKEN}:admin:2027-02-30", "short-token:admin", f"{TOKEN}:admin,{TOKEN}x"):
        message = refusal(monkeypatch, KB_TOKENS=spec)
        assert TOKEN[:5] not in message
        assert "short-token" not in message


def test_persisted_query_manifests_that_cannot_be_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    not_json = manifest(tmp_path, '{"abc": ', "not-json.json")
    wrong_hash = manifest(tmp_path, json.dumps({"0123456789abcdef": QUERY}), "wrong-hash.json")
    wrong_shape = manifest(tmp_path, "[1, 2]", "wrong-shape.json")

    assert refusal(monkeypatch, KB_PERSISTED_QUERIES=missing) == (
        f"KB_PERSISTED_QUERIES: cannot read {missing}: No such file or directory"
    )
    assert refusal(monkeypatch, KB_PERSISTED_QUERIES=not_json) == (
        f"KB_PERSISTED_QUERIES: {not_json} is not JSON: Expecting value at line 1"
    )
    assert refusal(monkeypatch, KB_PERSISTED_QUERIES=wrong_hash) == (
        f"KB_PERSISTED_QUERIES: {wrong_hash}: persisted query 0123456789ab… does not hash to its id"
    )
    assert refusal(monkeypatch, KB_PERSISTED_QUERIES=wrong_shape).startswith(
        f"KB_PERSISTED_QUERIES: {wrong_shape} is not a persisted-query manifest"
    )


def test_a_good_configuration_passes_whole(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    operations = [{"id": hashlib.sha256(QUERY.encode()).hexdigest(), "body": QUERY}]
    monkeypatch.setenv("KB_PERSISTED_QUERIES", manifest(tmp_path, json.dumps({"operations": operations})))
    monkeypatch.setenv("KB_ALLOW_LIST_ONLY", "true")
    monkeypatch.setenv("KB_TOKENS", f"{TOKEN}:admin:2027-01-01")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")

    settings = checked_settings()

    assert settings.allow_list_only
    assert settings.log_level == "debug"


def test_the_app_refuses_given_settings_that_cannot_be_used() -> None:
    with pytest.raises(ConfigError, match="KB_TOKENS: tokens must be at least 16 characters"):
        create_app(Settings(KB_TOKENS="short-token:admin"))
