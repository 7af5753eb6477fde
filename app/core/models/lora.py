"""LoRA adapters: check a GGUF adapter against its base model, and apply one to a model that is
already loaded (llama.cpp's adapter API), so a slot switches adapters without reloading.

An adapter is what ``convert_lora_to_gguf.py`` (llama.cpp) writes from a PEFT adapter:
``general.type = "adapter"``, ``adapter.type = "lora"``, ``adapter.lora.alpha``, and a pair of
tensors ``<base tensor>.lora_a`` / ``.lora_b`` per adapted weight. Training stays outside Nanobot
(docs/LEARNING.md has the recipe); this module only loads the result.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.models.gguf import ModelFileError
from app.core.models.gguf_meta import read_gguf


class AdapterError(Exception):
    """An adapter that cannot be used with this model, with the reason in words."""


@dataclass(frozen=True)
class AdapterInfo:
    path: Path
    architecture: str
    alpha: float
    tensors: int  # adapted weights (pairs of lora_a / lora_b)


def check_adapter(path: str | Path, base: str | Path | None = None) -> AdapterInfo:
    """Read the adapter's header; with ``base``, also check it was made for that model's
    architecture and its tensors' shapes. Raises :class:`AdapterError`."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise AdapterError(f"LoRA adapter not found: {p}")
    try:
        info = read_gguf(p)
    except ModelFileError as exc:
        raise AdapterError(str(exc)) from exc
    meta = info.metadata
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        raise AdapterError(f"{p.name} is not a LoRA adapter (general.type = "
                           f"{meta.get('general.type')!r}, adapter.type = "
                           f"{meta.get('adapter.type')!r})")
    pairs = {t.name[:-7] for t in info.tensors if t.name.endswith(".lora_a")}
    if not pairs:
        raise AdapterError(f"{p.name} has no lora_a/lora_b tensors")
    alpha = meta.get("adapter.lora.alpha", 0.0)
    adapter = AdapterInfo(p, info.architecture, float(alpha) if isinstance(alpha, int | float)
                          else 0.0, len(pairs))
    if base is not None:
        _check_against(info, Path(base).expanduser(), pairs)
    return adapter


def _check_against(adapter: Any, base_path: Path, pairs: set[str]) -> None:
    try:
        base = read_gguf(base_path)
    except ModelFileError as exc:
        raise AdapterError(f"cannot read the base model: {exc}") from exc
    if adapter.architecture != base.architecture:
        raise AdapterError(f"{adapter.path.name} was made for a {adapter.architecture!r} model; "
                           f"this model is {base.architecture!r}")
    shapes = {t.name: t.shape for t in base.tensors}
    by_name = {t.name: t.shape for t in adapter.tensors}
    for name in sorted(pairs):
        if name not in shapes:
            if base.metadata.get("split.count"):  # tensors of other parts are not in this header
                continue
            raise AdapterError(f"{adapter.path.name} adapts {name}, which this model does not "
                               "have")
        a, b = by_name.get(name + ".lora_a"), by_name.get(name + ".lora_b")
        if a is None or b is None:
            raise AdapterError(f"{name}: lora_a or lora_b is missing")
        w = shapes[name]
        # ggml order: weight [n_in, n_out], lora_a [n_in, r], lora_b [r, n_out]
        if a[0] != w[0] or b[1] != w[1] or a[1] != b[0]:
            raise AdapterError(f"{name}: adapter shapes {a} / {b} do not fit the weight {w}")


class LoadedAdapter:
    """An adapter loaded onto a model; applied to a context with a scale. Freed with the model
    (llama.cpp frees adapters with their model), or by :meth:`free`."""

    def __init__(self, model: Any, path: Path) -> None:
        import llama_cpp

        self.path = path
        self._model = model
        self._ptr = llama_cpp.llama_adapter_lora_init(model, str(path).encode("utf-8"))
        if not self._ptr:
            raise AdapterError(f"llama.cpp could not load the adapter {path.name} (see the log)")

    def apply(self, ctx: Any, scale: float) -> None:
        import llama_cpp

        adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._ptr)
        scales = (ctypes.c_float * 1)(scale)
        if llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, scales):
            raise AdapterError(f"llama.cpp refused to apply {self.path.name}")

    def free(self) -> None:
        import llama_cpp

        if self._ptr:
            llama_cpp.llama_adapter_lora_free(self._ptr)
            self._ptr = None


def clear_adapters(ctx: Any) -> None:
    import llama_cpp

    llama_cpp.llama_set_adapters_lora(ctx, None, 0, None)
