"""The chat templates thread repair is proven against: the default model's own (read from its GGUF)
plus reproductions of the common strict and permissive families in ``tests/templates/``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.wire.template_caps import TemplateCaps, jinja_render_fn, probe_template

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@dataclass(frozen=True)
class TemplateUnderTest:
    name: str
    source: str
    render: Callable[[list[dict[str, Any]]], str]
    caps: TemplateCaps


def load(name: str, source: str) -> TemplateUnderTest:
    render = jinja_render_fn(source, bos_token="<s>", eos_token="</s>")
    return TemplateUnderTest(name, source, render, probe_template(render))


def file_templates() -> list[TemplateUnderTest]:
    return [load(p.stem, p.read_text(encoding="utf-8"))
            for p in sorted(TEMPLATES_DIR.glob("*.jinja"))]
