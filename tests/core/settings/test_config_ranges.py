"""Numbers out of range, non-finite numbers and model files that are not (complete) GGUFs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.models.gguf import ModelFileError, check_gguf
from app.core.settings.config import ConfigError, SlotConfig, parse_config
from tests.cli.test_cli import nanobot
from tests.gguf_fixture import write_gguf


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("[agent]\nmax_tokens = -1\n", "agent.max_tokens", "from 1 to"),
        ("[agent]\nmax_tokens = 0\n", "agent.max_tokens", "from 1 to"),
        ("[local]\nthreads = -2\n", "local.threads", "from 0 to"),
        ("[resilience]\nmax_retries = -1\n", "resilience.max_retries", "from 0 to"),
        ("[resilience]\nbreaker_threshold = 0\n", "resilience.breaker_threshold", "from 1 to"),
        ("[resilience]\nbase_delay = -1.0\n", "resilience.base_delay", "from 0 to"),
        ("[resilience]\nidle_timeout_s = 0\n", "resilience.idle_timeout_s", "a number from"),
        ("[context]\nsummary_timeout_s = nan\n", "context.summary_timeout_s", "a finite number"),
        ("[resilience]\nfirst_byte_timeout_s = inf\n", "resilience.first_byte_timeout_s",
         "a finite number"),
        ("[swarm]\ntimeout_s = -inf\n", "swarm.timeout_s", "a finite number"),
        ("[local.main]\ncontext_size = 1000000000\n", "local.main.context_size", "256 to"),
        ('[providers.x]\nbase_url = "http://x"\ncontext_window = 12\n',
         "providers.x.context_window", "at least 256"),
        ('[providers.x]\nbase_url = "http://x"\ncontext_window = 99999999999\n',
         "providers.x.context_window", "from 0 to"),
    ],
)
def test_numbers_out_of_range_name_their_key(text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.toml")
    assert info.value.key == key
    assert expected in str(info.value)


def test_a_truncated_gguf_is_refused_by_name(tmp_path: Path) -> None:
    whole = write_gguf(tmp_path / "whole.gguf", layers=4, layer_bytes=64 * 1024)
    assert check_gguf(whole) == whole
    data = whole.read_bytes()
    for keep in (len(data) - 1000, len(data) // 2, 200):  # mid-tensor, mid-table, mid-header
        cut = tmp_path / f"cut{keep}.gguf"
        cut.write_bytes(data[:keep])
        with pytest.raises(ModelFileError, match=r"truncated|damaged|not a GGUF"):
            check_gguf(cut)


def test_a_truncated_gguf_falls_back_to_the_default_model(tmp_path: Path,
                                                          model_path: Path) -> None:
    from app.core.providers.registry import local_provider

    whole = write_gguf(tmp_path / "m.gguf", layers=4, layer_bytes=64 * 1024)
    whole.write_bytes(whole.read_bytes()[:-4096])
    selection = local_provider(SlotConfig(path=str(whole)))
    assert any("truncated GGUF" in n and "default model" in n for n in selection.notices)
    assert Path(selection.provider.path).name == model_path.name  # type: ignore[attr-defined]


def test_config_check_refuses_a_model_path_that_is_not_a_gguf(nanobot_home: Path,
                                                             tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("this is a text file, not a model")
    cfg = nanobot_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(f'[local.main]\npath = "{fake}"\n')
    proc = nanobot("config", "check", env={"NANOBOT_HOME": str(nanobot_home),
                                           "PATH": os.environ["PATH"]})
    assert proc.returncode == 2
    assert "local.main.path" in proc.stderr and "not a GGUF" in proc.stderr
