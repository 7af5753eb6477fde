"""``nanobot setup`` without the screens: turn recommendations into slot choices, downloads and a
config file that ``nanobot config check`` accepts."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.models.model_catalog import load_catalog
from app.core.models.recommend import Recommendation
from app.core.settings.config import parse_config
from app.core.settings.config_edit import toml_string
from app.core.settings.paths import atomic_write_text

HF = "https://huggingface.co"


@dataclass(frozen=True)
class SlotChoice:
    slot: str
    kind: str  # "embedded", "file" (already on disk) or "download"
    title: str
    model_id: str = ""  # embedded id
    path: str = ""  # the GGUF (for a download: where it will land)
    url: str = ""
    sha256: str = ""
    size: int = 0
    context: int = 8192
    gpu_layers: int = 0
    shared_with: str = ""
    fit: str = ""  # the fit plan in words

    @property
    def config_key(self) -> tuple[str, str, int, int]:
        return (self.model_id, self.path, self.context, self.gpu_layers)


def mirror_url(url: str, mirror: str) -> str:
    """Point a Hugging Face URL at a mirror with the same layout (``{repo}/resolve/main/…``)."""
    if mirror and url.startswith(HF):
        return mirror.rstrip("/") + url[len(HF):]
    return url


def choices_from(rec: Recommendation, models_dir: Path, *, mirror: str = "") -> list[SlotChoice]:
    out: list[SlotChoice] = []
    by_slot: dict[str, SlotChoice] = {}
    for s in rec.slots:
        cand, plan = s.candidate, s.plan
        ctx, layers = plan.context or 4096, plan.gpu_layers
        if s.shared_with and s.shared_with in by_slot:
            choice = replace(by_slot[s.shared_with], slot=s.slot, shared_with=s.shared_with)
        elif cand.is_embedded:
            choice = SlotChoice(s.slot, "embedded", cand.title, model_id=cand.embedded_id,
                                context=ctx, gpu_layers=layers, fit=plan.reason)
        elif s.local_path is not None or cand.file is None:
            choice = SlotChoice(s.slot, "file", cand.title, path=str(s.local_path or ""),
                                context=ctx, gpu_layers=layers, fit=plan.reason)
        else:
            f = cand.file
            choice = SlotChoice(s.slot, "download", cand.title, path=str(models_dir / f.file),
                                url=mirror_url(f.url, mirror), sha256=f.sha256, size=f.size,
                                context=ctx, gpu_layers=layers, fit=plan.reason)
        by_slot[s.slot] = choice
        out.append(choice)
    return out


def embedded_instead(choice: SlotChoice, main: SlotChoice | None = None,
                     model_id: str = "qwen2.5-coder-0.5b") -> SlotChoice:
    """The user declined a download: the slot runs the embedded default, sharing main's copy
    when main runs it too."""
    if main is not None and main.kind == "embedded" and main.model_id == model_id:
        return replace(main, slot=choice.slot, shared_with=main.slot)
    return SlotChoice(choice.slot, "embedded", "embedded default", model_id=model_id,
                      context=8192)


def render_config(choices: list[SlotChoice], *, tier: str, models_dir: Path) -> str:
    lines = [
        f"# Written by `nanobot setup` on {time.strftime('%Y-%m-%d')} for a {tier} machine.",
        "# Check it with: nanobot config check — and see what fits with: nanobot doctor",
        "",
        "[agent]",
        'provider = "local"',
        "",
        "[local]",
        "threads = 0",
        f"model_dirs = [{_q(str(models_dir))}]",
    ]
    main = next((c for c in choices if c.slot == "main"), None)
    for c in choices:
        if c.slot != "main" and main is not None and c.config_key == main.config_key:
            lines += ["", f"# [local.{c.slot}] is empty: it shares the main slot's model"]
            continue
        lines += ["", f"[local.{c.slot}]", f"# {c.title}" + (f" — {c.fit}" if c.fit else "")]
        if c.model_id:
            lines.append(f"model = {_q(c.model_id)}")
        if c.path:
            lines.append(f"path = {_q(c.path)}")
        lines.append(f"context_size = {c.context}")
        lines.append(f"gpu_layers = {c.gpu_layers}")
    text = "\n".join(lines) + "\n"
    parse_config(text, "<setup>")  # never write a file the loader would refuse
    return text


def _q(value: str) -> str:
    return toml_string(value)  # tomlkit escapes control characters too (a tab in a path)


def write_config(text: str, path: Path) -> Path | None:
    """Write ``text`` to ``path``; an existing file is kept as a dated backup (returned)."""
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(path, backup)
    atomic_write_text(path, text)
    return backup


def catalog_urls() -> dict[str, str]:
    """Every downloadable file's default URL (for the wizard's editable fields)."""
    return {f.ref: f.url for m in load_catalog().models.values() for f in m.quants.values()}
