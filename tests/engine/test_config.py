"""The typed settings: config.json, config.md and ``Settings`` agree; bad values are reported
with the key and what it should be, and keep their default; the engine and the CLI read them."""
import json
import re

import pytest

from generator.backends import make_backend
from generator.config import (BackendKind, BulkMode, CardKind, ConfigError, ResponseFormat,
                              Settings, config_json)
from generator.job.run import JobOptions

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_settings_defaults_are_config_json():
    assert Settings().to_dict() == config_json()


def test_every_key_is_documented_in_config_md():
    doc = (ROOT / "config.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^- `([a-z_]+)`", doc, re.M))
    assert set(Settings.keys()) <= documented, set(Settings.keys()) - documented


def test_config_json_reads_back_without_problems():
    problems = []
    assert Settings.from_dict(config_json(), problems) == Settings()
    assert problems == []


@pytest.mark.parametrize("key,value,words", [
    ("read_timeout", "slow", ["read_timeout", "a number", '"slow"', "300"]),
    ("read_timeout", 0, ["read_timeout", "more than 0"]),
    ("parallel_requests", 0, ["parallel_requests", "between 1 and 64"]),
    ("num_ctx", 100.5, ["num_ctx", "a whole number"]),
    ("card_kind", "flash", ["card_kind", '"basic", "reversed", "cloze"', '"flash"']),
    ("backend", 3, ["backend", '"ollama", "openai"']),
    ("skip_duplicates", "yes", ["skip_duplicates", "true or false"]),
    ("tags", [1, 2], ["tags", "a list of texts"]),
    ("field_mapping", ["front"], ["field_mapping", "an object of texts"]),
])
def test_a_bad_value_keeps_its_default_and_says_why(key, value, words):
    problems = []
    settings = Settings.from_dict({key: value}, problems)
    assert getattr(settings, key) == getattr(Settings(), key)
    assert len(problems) == 1
    for word in words:
        assert word in problems[0], problems[0]
    with pytest.raises(ConfigError) as e:
        Settings.checked({key: value})
    assert key in e.value.user_text()


def test_unknown_keys_are_reported_and_none_means_default():
    problems = []
    settings = Settings.from_dict({"colour": "blue", "model": None, "url": "http://x:1"}, problems)
    assert problems == ["Unknown setting 'colour' (ignored)."]
    assert settings.model == Settings().model and settings.url == "http://x:1"


def test_values_are_typed():
    s = Settings.from_dict({"backend": " OpenAI ", "card_kind": "cloze", "response_format": "json_object",
                            "bulk_mode": "review", "tags": "a b", "num_ctx": 8192.0, "read_timeout": 2.5})
    assert s.backend is BackendKind.OPENAI and s.card_kind is CardKind.CLOZE
    assert s.response_format is ResponseFormat.JSON_OBJECT and s.bulk_mode is BulkMode.REVIEW
    assert s.tags == ["a", "b"] and s.num_ctx == 8192 and isinstance(s.num_ctx, int)
    # Closed sets are strings: they compare with, format as and serialise to their value.
    assert s.card_kind == "cloze" and "%s/%s" % (s.card_kind, s.backend) == "cloze/openai"
    assert f"{s.bulk_mode}" == "review"
    assert json.loads(json.dumps(s.to_dict()))["card_kind"] == "cloze"


def test_replace_checks_and_server_url_fills_the_default():
    s = Settings().replace(backend="openai", url="")
    assert s.server_url == "http://127.0.0.1:1234"
    assert Settings().replace(url="10.0.0.2:11434").server_url == "http://10.0.0.2:11434"
    with pytest.raises(ConfigError):
        Settings().replace(temperature=9)


def test_engine_reads_settings():
    s = Settings().replace(card_kind="cloze", num_ctx=2048, parallel_requests=3, model="m")
    options = JobOptions.from_config(s, max_cards=7)
    assert (options.kind, options.num_ctx, options.parallel, options.model, options.max_cards) == \
        ("cloze", 2048, 3, "m", 7)
    assert JobOptions.from_config({"card_kind": "reversed"}).kind == "reversed"
    backend = make_backend(s.replace(read_timeout=12, connect_timeout=3, busy_retries=1))
    try:
        assert backend.http.timeout == (3, 12) and backend.http.retries == 1
    finally:
        backend.close()
    openai = make_backend({"backend": "openai", "url": "", "response_format": "none"})
    try:
        assert openai.http.base_url == "http://127.0.0.1:1234"
        assert openai.response_format is ResponseFormat.NONE
    finally:
        openai.close()
    with pytest.raises(ConfigError):  # code that passes a wrong key hears of it
        make_backend({"read_timeout_s": 5})
