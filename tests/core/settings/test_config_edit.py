"""Persisting one setting keeps the rest of the user's file, and refuses broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings.config import ConfigError, load_config
from app.core.settings.config_edit import set_value


def test_replaces_the_key_in_its_section_keeping_comments(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('# top\n[ui]\ntheme = "nanobot-dark"  # was\nshow_thinking = false\n'
                   "[agent]\nmax_tokens = 100\n")
    set_value("ui", "theme", "nanobot-light", cfg)
    text = cfg.read_text()
    assert '# top' in text and 'theme = "nanobot-light"' in text and "show_thinking = false" in text
    loaded = load_config(cfg)
    assert loaded.ui.theme == "nanobot-light" and loaded.agent.max_tokens == 100


def test_adds_the_section_or_key_when_missing(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    set_value("ui", "theme", "nanobot-light", cfg)  # no file yet
    assert load_config(cfg).ui.theme == "nanobot-light"
    cfg.write_text("[ui]\nshow_thinking = true\n")
    set_value("ui", "theme", 'odd "name"', cfg)
    assert load_config(cfg).ui.theme == 'odd "name"'


def test_a_broken_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[ui\ntheme = ")
    with pytest.raises(ConfigError):
        set_value("ui", "theme", "x", cfg)
    assert cfg.read_text() == "[ui\ntheme = "
