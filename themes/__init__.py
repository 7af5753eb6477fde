"""Nanobot's themes and the app stylesheet.

Every colour in ``app.tcss`` and in widget ``DEFAULT_CSS`` is a semantic variable (``$primary``,
``$panel``, ``$error``, …), so any Textual theme works; these two are the defaults we tune for.
"""

from __future__ import annotations

from pathlib import Path

from textual.theme import Theme

STYLESHEET = Path(__file__).with_name("app.tcss")

NANOBOT_DARK = Theme(
    name="nanobot-dark",
    primary="#5FA8D3",
    secondary="#7A8BA8",
    accent="#E0A458",
    warning="#E0A458",
    error="#E06C75",
    success="#7EC699",
    foreground="#D8DEE9",
    background="#14171C",
    surface="#1B1F26",
    panel="#232934",
    dark=True,
    variables={"footer-key-foreground": "#5FA8D3"},
)

NANOBOT_LIGHT = Theme(
    name="nanobot-light",
    primary="#1F6FA8",
    secondary="#55657F",
    accent="#B5651D",
    warning="#A66300",
    error="#B3261E",
    success="#2E7D32",
    foreground="#1E232B",
    background="#F7F7F4",
    surface="#EEEEEA",
    panel="#E2E4E0",
    dark=False,
    variables={"footer-key-foreground": "#1F6FA8"},
)

THEMES: tuple[Theme, ...] = (NANOBOT_DARK, NANOBOT_LIGHT)
DEFAULT_THEME = NANOBOT_DARK.name
