from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings.config import Config, ConfigError, load_config, parse_config, template_text


def test_missing_file_means_defaults(tmp_path: Path) -> None:
    cfg = load_config(tmp_path / "nope.toml")
    assert cfg == Config()
    assert cfg.agent.provider == "local"
    assert cfg.local.slot("rlm") is cfg.local.main  # empty slots fall back to main


def test_template_is_valid_and_documented() -> None:
    text = template_text()
    cfg = parse_config(text, "template")
    assert cfg.local.main.context_size == 8192
    assert "[local.main]" in text and "api_key_env" in text


def test_slots_and_providers_parse() -> None:
    cfg = parse_config(
        """
        [agent]
        provider = "lab"
        [local.rlm]
        path = "/models/nanbeige.gguf"
        context_size = 4096
        temperature = 0.6
        [providers.lab]
        base_url = "http://127.0.0.1:8080/v1"
        api_key_env = "LAB_KEY"
        models = ["a", "b"]
        """,
        "c.toml",
    )
    assert cfg.local.slot("rlm").path == "/models/nanbeige.gguf"
    assert cfg.local.slot("memory") is cfg.local.main
    assert cfg.providers["lab"].models == ("a", "b")


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[local.main]\ncontext_size = "big"\n', "local.main.context_size", "an integer"),
        ("[local.main]\ntemperature = 9\n", "local.main.temperature", "from 0 to 2"),
        ("[agent]\nmax_iterations = true\n", "agent.max_iterations", "an integer"),
        ("[agent]\nprovider = \"nowhere\"\n", "agent.provider", "configured provider"),
        ("[agent]\nbogus = 1\n", "agent.bogus", "one of"),
        ('[providers.x]\nbase_url = "ftp://x"\n', "providers.x.base_url", "http(s)"),
        ('[providers.x]\nbase_url = "http://x"\nmodels = "m"\n', "providers.x.models",
         "a list of a string"),
        ("agent = 3\n", "agent", "a table"),
        ("[agent\n", "(syntax)", "valid TOML"),
    ],
)
def test_errors_name_file_key_and_expectation(text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "/etc/nb.toml")
    err = info.value
    assert err.file == "/etc/nb.toml"
    assert err.key == key
    assert expected in str(err)


def test_a_retired_key_is_ignored_and_a_typo_still_fails() -> None:
    # Configs written from an earlier template hold context.coalesce_window_ms: they keep loading.
    cfg = parse_config("[context]\ncoalesce_window_ms = 400\nmask_at = 0.9\n")
    assert cfg.context.mask_at == 0.9
    with pytest.raises(ConfigError, match=r"context\.coalesce_window"):
        parse_config("[context]\ncoalesce_window = 400\n")
