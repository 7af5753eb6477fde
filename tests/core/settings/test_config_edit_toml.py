"""Persisting a setting edits the TOML document, not lines that look like it.

Each file below broke the line-based editor: a ``[ui]`` line inside a multi-line string was
edited instead (the user's prompt silently changed), and dotted, inline-table and quoted keys
made ``/theme`` fail. Comments and everything else stay as the user wrote them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.settings.config import load_config
from app.core.settings.config_edit import set_value

PROMPT = '''You are terse.
[ui]
theme = "keep me"
Answer in English.
'''

CASES = {
    "multi-line string": (
        f'[agent]\nsystem_prompt = """{PROMPT}"""\n\n[ui]\ntheme = "nanobot-dark"  # mine\n'),
    "multi-line string, no [ui] table": f'[agent]\nsystem_prompt = """{PROMPT}"""\n',
    "dotted key": '# my settings\nui.theme = "nanobot-dark"\nui.show_thinking = false\n',
    "inline table": 'ui = { theme = "nanobot-dark", show_thinking = false }  # compact\n',
    "quoted table name": '["ui"]\ntheme = "nanobot-dark"\n',
    "quoted key": '[ui]\n"theme" = "nanobot-dark"\nshow_thinking = false\n',
}


@pytest.mark.parametrize("name", list(CASES))
def test_theme_is_set_and_nothing_else_changes(tmp_path: Path, name: str) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CASES[name])
    before = load_config(cfg)
    set_value("ui", "theme", "nanobot-light", cfg)
    after = load_config(cfg)
    assert after.ui.theme == "nanobot-light"
    assert after.agent.system_prompt == before.agent.system_prompt
    assert after.ui.show_thinking == before.ui.show_thinking
    text = cfg.read_text()
    for line in CASES[name].splitlines():  # every comment survives
        if "#" in line:
            assert line[line.index("#"):] in text


def test_the_prompt_text_is_byte_for_byte_the_same(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CASES["multi-line string"])
    set_value("ui", "theme", "nanobot-light", cfg)
    assert load_config(cfg).agent.system_prompt == PROMPT
    assert f'"""{PROMPT}"""' in cfg.read_text()
