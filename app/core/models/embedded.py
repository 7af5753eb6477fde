"""The embedded default model: a GGUF shipped as split files inside packages on the index.

The parts are found through the installed packages' own files (``importlib``), concatenated once
into the models directory with a checksum check, and reused on every later start.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from app.core.settings.paths import get_paths

DEFAULT_MODEL_ID = "qwen2.5-coder-0.5b"
CHUNK = 4 << 20


class EmbeddedModelError(Exception):
    pass


@dataclass(frozen=True)
class EmbeddedModel:
    id: str
    title: str
    filename: str
    parts: tuple[tuple[str, str], ...]
    size: int
    sha256: str
    extra: str
    capabilities: dict[str, Any]


def catalog() -> dict[str, EmbeddedModel]:
    raw = json.loads(resources.files("assets").joinpath("catalog.json").read_text("utf-8"))
    return {
        mid: EmbeddedModel(id=mid, title=m["title"], filename=m["filename"],
                           parts=tuple((p[0], p[1]) for p in m["parts"]), size=int(m["size"]),
                           sha256=m["sha256"], extra=m.get("extra", ""),
                           capabilities=dict(m.get("capabilities", {})))
        for mid, m in raw["embedded"].items()
    }


def models_dir() -> Path:
    override = os.environ.get("NANOBOT_MODELS_DIR")
    return Path(override) if override else get_paths().models_dir


def part_paths(model: EmbeddedModel) -> list[Path]:
    paths: list[Path] = []
    for module, rel in model.parts:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            hint = f" (pip install 'nanobot[{model.extra}]')" if model.extra else ""
            raise EmbeddedModelError(
                f"the package {module!r} holding part of {model.title} is not installed{hint}")
        p = Path(spec.origin).parent / rel
        if not p.is_file():
            raise EmbeddedModelError(f"missing model part {p}")
        paths.append(p)
    return paths


def _stamp_ok(target: Path, stamp: Path, model: EmbeddedModel) -> bool:
    try:
        return (target.stat().st_size == model.size
                and stamp.read_text().strip() == model.sha256)
    except OSError:
        return False


def ensure_embedded(model_id: str = DEFAULT_MODEL_ID, directory: Path | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Path:
    """Return the assembled GGUF, assembling and verifying it on first use only."""
    models = catalog()
    if model_id not in models:
        raise EmbeddedModelError(f"unknown embedded model {model_id!r}; known: {', '.join(models)}")
    model = models[model_id]
    directory = directory or models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / model.filename
    stamp = directory / (model.filename + ".sha256")
    if _stamp_ok(target, stamp, model):
        return target
    with open(directory / (model.filename + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be assembling the same file
        if _stamp_ok(target, stamp, model):
            return target
        parts = part_paths(model)
        tmp = directory / (model.filename + ".partial")
        digest = hashlib.sha256()
        done = 0
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(CHUNK):
                        out.write(block)
                        digest.update(block)
                        done += len(block)
                        if progress:
                            progress(done, model.size)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256 or done != model.size:
            tmp.unlink(missing_ok=True)
            raise EmbeddedModelError(
                f"checksum mismatch assembling {model.title}: got {digest.hexdigest()[:16]}…, "
                f"{done} bytes; reinstall the model packages")
        os.replace(tmp, target)
        stamp.write_text(model.sha256 + "\n")
    return target
