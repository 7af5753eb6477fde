"""The shipped catalog of recommended models (``assets/model_catalog.json``).

Separate from ``assets/catalog.json``, which lists the embedded models and their package parts. A
candidate is written ``MODEL:QUANT`` (a catalog file to download) or ``embedded:ID``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from app.core.models.embedded import EmbeddedModelError, catalog, models_dir, part_paths
from app.core.models.fit import ModelShape
from app.core.models.gguf import ModelFileError
from app.core.models.gguf_meta import read_gguf


class CatalogError(Exception):
    pass


@dataclass(frozen=True)
class CatalogFile:
    model_id: str
    title: str
    quant: str
    file: str
    size: int
    sha256: str
    url: str

    @property
    def ref(self) -> str:
        return f"{self.model_id}:{self.quant}"


@dataclass(frozen=True)
class CatalogModel:
    id: str
    title: str
    repo: str
    license: str
    layers: int
    kv_heads: int
    head_size: int
    context: int
    notes: str
    quants: dict[str, CatalogFile] = field(default_factory=dict)

    def shape(self, quant: str) -> ModelShape:
        f = self.quants[quant]
        return ModelShape(name=f"{self.title} {quant}", file_bytes=f.size, layers=self.layers,
                          kv_bytes_per_token=self.layers * self.kv_heads * self.head_size * 2 * 2,
                          trained_context=self.context)


@dataclass(frozen=True)
class ModelCatalog:
    models: dict[str, CatalogModel]
    recommendations: dict[str, dict[str, tuple[str, ...]]]
    url_template: str


@dataclass(frozen=True)
class Candidate:
    """Something a slot can run: a catalog download or an embedded model."""

    ref: str
    title: str
    shape: ModelShape
    file: CatalogFile | None = None
    embedded_id: str = ""

    @property
    def is_embedded(self) -> bool:
        return bool(self.embedded_id)


def _parse(raw: dict[str, Any]) -> ModelCatalog:
    template = str(raw.get("url_template", "https://huggingface.co/{repo}/resolve/main/{file}"))
    models: dict[str, CatalogModel] = {}
    for mid, m in raw["models"].items():
        arch = m["arch"]
        quants = {
            q: CatalogFile(model_id=mid, title=m["title"], quant=q, file=f["file"],
                           size=int(f["size"]), sha256=str(f.get("sha256", "")),
                           url=f.get("url") or template.format(repo=m["repo"], file=f["file"]))
            for q, f in m["quants"].items()
        }
        models[mid] = CatalogModel(
            id=mid, title=m["title"], repo=m["repo"], license=m.get("license", ""),
            layers=int(arch["layers"]), kv_heads=int(arch["kv_heads"]),
            head_size=int(arch["head_size"]), context=int(arch["context"]),
            notes=m.get("notes", ""), quants=quants)
    recs = {tier: {slot: tuple(c) for slot, c in slots.items() if not slot.startswith("_")}
            for tier, slots in raw["recommendations"].items() if not tier.startswith("_")}
    return ModelCatalog(models, recs, template)


@lru_cache(maxsize=1)
def load_catalog() -> ModelCatalog:
    text = resources.files("assets").joinpath("model_catalog.json").read_text("utf-8")
    return _parse(json.loads(text))


@lru_cache(maxsize=8)
def embedded_shape(model_id: str) -> ModelShape:
    """The embedded model's own header: from the assembled file, or from its first package part."""
    model = catalog()[model_id]
    assembled = models_dir() / model.filename
    try:
        if assembled.is_file() and assembled.stat().st_size == model.size:
            info = read_gguf(assembled)
        else:
            info = read_gguf(part_paths(model)[0], total_size=model.size)
        shape = ModelShape.from_gguf(info)
        return ModelShape(model.title, shape.file_bytes, shape.layers, shape.kv_bytes_per_token,
                          shape.trained_context, shape.layer_bytes)
    except (ModelFileError, EmbeddedModelError, IndexError):
        # Parts not installed: fall back to a conservative guess from the size.
        return ModelShape(model.title, model.size, 24, 12288, 32768)


def resolve(ref: str, cat: ModelCatalog | None = None) -> Candidate:
    cat = cat or load_catalog()
    kind, _, rest = ref.partition(":")
    if kind == "embedded":
        embedded = catalog()
        if rest not in embedded:
            raise CatalogError(f"unknown embedded model {rest!r} in {ref!r}")
        return Candidate(ref, embedded[rest].title, embedded_shape(rest), embedded_id=rest)
    model = cat.models.get(kind)
    if model is None or rest not in model.quants:
        raise CatalogError(f"unknown catalog entry {ref!r}; known: "
                           + ", ".join(f.ref for m in cat.models.values() for f in m.quants.values()))
    return Candidate(ref, f"{model.title} {rest}", model.shape(rest), file=model.quants[rest])


def find_by_filename(name: str, cat: ModelCatalog | None = None) -> CatalogFile | None:
    cat = cat or load_catalog()
    low = name.lower()
    for m in cat.models.values():
        for f in m.quants.values():
            if f.file.lower() == low:
                return f
    return None
