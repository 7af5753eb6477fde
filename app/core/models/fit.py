"""Will this model fit, with how much context, and how many layers on the GPU?

All from the model's own numbers (a GGUF header, or the catalog for files not downloaded yet):

- KV bytes per token = layers x KV heads x (K size + V size) x 2 bytes (f16 cache).
- A layer's VRAM cost = its weight bytes + its share of the KV cache at the chosen context.
- GPU layers: as many as fit in free VRAM after a reserve (1 GiB kept free, 512 MiB for compute
  buffers); the rest of the weights and their KV cache go to RAM (2 GiB kept for the system).
- Largest context: what the tighter of the two budgets allows, at most the trained context,
  rounded down to a multiple of 1024. Below ``min_context`` the model does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.core.models.gguf_meta import GGUFInfo
from app.core.models.hardware import GiB, HardwareSnapshot

MiB = 1 << 20
VRAM_RESERVE = 1 * GiB
GPU_COMPUTE = 512 * MiB
RAM_RESERVE = 2 * GiB
CPU_COMPUTE = 256 * MiB
MIN_CONTEXT = 2048


@dataclass(frozen=True)
class ModelShape:
    """The numbers fit needs; ``layer_bytes`` empty = weights spread evenly over the layers."""

    name: str
    file_bytes: int
    layers: int
    kv_bytes_per_token: int
    trained_context: int
    layer_bytes: tuple[int, ...] = ()

    @classmethod
    def from_gguf(cls, info: GGUFInfo) -> ModelShape:
        return cls(name=info.name, file_bytes=info.file_size, layers=max(1, info.block_count),
                   kv_bytes_per_token=info.kv_bytes_per_token(),
                   trained_context=info.context_length or 4096,
                   layer_bytes=tuple(info.layer_bytes()))

    def per_layer(self) -> list[int]:
        if self.layer_bytes and len(self.layer_bytes) == self.layers and sum(self.layer_bytes):
            return list(self.layer_bytes)
        # Without a tensor table, assume ~90% of the file is repeating blocks.
        each = int(self.file_bytes * 0.9) // self.layers
        return [each] * self.layers

    def default_context(self) -> int:
        """Small models are not worth a huge window on CPU: the predecessor's cap by size."""
        size = self.file_bytes
        cap = (8192 if size < 2 * GiB else 16384 if size < 4 * GiB else 32768 if size < 8 * GiB
               else 65536 if size < 16 * GiB else self.trained_context)
        return min(cap, self.trained_context)


@dataclass(frozen=True)
class MemoryBudget:
    vram: int  # usable bytes on the GPU(s) after the reserve
    ram: int  # usable bytes of RAM after the reserve

    @classmethod
    def from_hardware(cls, hw: HardwareSnapshot) -> MemoryBudget:
        if hw.gpus:
            vram = max(0, hw.vram_free - VRAM_RESERVE * len(hw.gpus))
        elif hw.unified_memory:
            vram = 0  # on unified memory "GPU" and RAM are the same pool: plan it as RAM
        else:
            vram = 0
        return cls(vram=vram, ram=max(0, hw.ram_available - RAM_RESERVE))

    def minus(self, vram: int, ram: int) -> MemoryBudget:
        return MemoryBudget(max(0, self.vram - vram), max(0, self.ram - ram))


@dataclass(frozen=True)
class FitPlan:
    model: str
    fits: bool
    device: str  # "gpu" (all layers), "partial", "cpu", or "none"
    gpu_layers: int  # for llama.cpp: -1 = all, 0 = none
    context: int
    max_context: int
    kv_bytes_per_token: int
    vram_bytes: int
    ram_bytes: int
    reason: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {"model": self.model, "fits": self.fits, "device": self.device,
                "gpu_layers": self.gpu_layers, "context": self.context,
                "max_context": self.max_context, "kv_bytes_per_token": self.kv_bytes_per_token,
                "vram_bytes": self.vram_bytes, "ram_bytes": self.ram_bytes,
                "reason": self.reason, "notes": list(self.notes)}


def _round_ctx(n: float, trained: int) -> int:
    return max(0, int(min(n, trained)) // 1024 * 1024)


def plan_fit(shape: ModelShape, budget: MemoryBudget, *, want_context: int | None = None,
             use_gpu: bool = True, min_context: int = MIN_CONTEXT) -> FitPlan:
    """The best placement of ``shape`` in ``budget``; never raises."""
    layers = shape.per_layer()
    n = len(layers)
    other = max(0, shape.file_bytes - sum(layers))  # embeddings, output head, norms
    kv_layer = shape.kv_bytes_per_token / max(1, shape.layers)
    want = want_context or shape.default_context()
    want = max(min_context, min(want, shape.trained_context))
    gpu_budget = budget.vram - GPU_COMPUTE if use_gpu and budget.vram > GPU_COMPUTE else 0
    ram_budget = budget.ram - CPU_COMPUTE

    def vram_need(g: int, ctx: int) -> float:
        extra = other if g == n else 0
        return sum(layers[:g]) + extra + g * kv_layer * ctx

    def ram_need(g: int, ctx: int) -> float:
        extra = 0 if g == n else other
        return sum(layers[g:]) + extra + (n - g) * kv_layer * ctx

    g = 0
    if gpu_budget > 0:
        for cand in range(n, 0, -1):
            if vram_need(cand, want) <= gpu_budget:
                g = cand
                break
    # Largest context both budgets allow with g layers on the GPU.
    limits: list[float] = [float(shape.trained_context)]
    if g:
        room = gpu_budget - vram_need(g, 0)
        limits.append(room / (g * kv_layer) if kv_layer else float(shape.trained_context))
    if g < n:
        room = ram_budget - ram_need(g, 0)
        limits.append(room / ((n - g) * kv_layer) if kv_layer else float(shape.trained_context))
    max_ctx = _round_ctx(min(limits), shape.trained_context)
    device = "gpu" if g == n else "partial" if g else "cpu"
    kv_txt = f"KV {shape.kv_bytes_per_token / 1024:.0f} KiB/token"
    if max_ctx < min_context:
        need = shape.file_bytes + shape.kv_bytes_per_token * min_context
        have = max(0, gpu_budget) + max(0, ram_budget)
        return FitPlan(shape.name, False, "none", 0, 0, max(0, max_ctx),
                       shape.kv_bytes_per_token, 0, 0,
                       f"needs about {need / GiB:.1f} GiB with a {min_context}-token context; "
                       f"{have / GiB:.1f} GiB is free", (kv_txt,))
    ctx = min(want, max_ctx)
    vram = int(vram_need(g, ctx) + GPU_COMPUTE) if g else 0
    ram = int(ram_need(g, ctx) + CPU_COMPUTE) if g < n else 0
    where = {"gpu": "all layers on the GPU", "partial": f"{g}/{n} layers on the GPU",
             "cpu": "on the CPU"}[device]
    reason = f"{where}, context {ctx} (largest that fits: {max_ctx}), {kv_txt}"
    return FitPlan(shape.name, True, device, -1 if g == n else g, ctx, max_ctx,
                   shape.kv_bytes_per_token, vram, ram, reason, (kv_txt,))


@dataclass(frozen=True)
class SlotFit:
    slot: str
    shape: ModelShape
    plan: FitPlan
    shared_with: str = ""  # the slot whose model this one reuses


def plan_slots(wanted: Sequence[tuple[str, ModelShape, int | None, bool]],
               budget: MemoryBudget) -> list[SlotFit]:
    """Place slots in priority order, each taking its share of the budget.

    Each entry is ``(slot, shape, want_context, partial_gpu_ok)``: the main slot may split its
    layers between GPU and CPU; the others use the GPU only when the whole model fits there
    (main on the GPU, the helpers on the CPU). A model already placed for an earlier slot is
    reused, not counted again.
    """
    out: list[SlotFit] = []
    placed: dict[tuple[str, int], SlotFit] = {}
    for slot, shape, want, partial_ok in wanted:
        key = (shape.name, shape.file_bytes)
        if key in placed:
            first = placed[key]
            out.append(SlotFit(slot, shape, first.plan, shared_with=first.slot))
            continue
        plan = plan_fit(shape, budget, want_context=want, use_gpu=True)
        if plan.fits and plan.device == "partial" and not partial_ok:
            plan = plan_fit(shape, budget, want_context=want, use_gpu=False)
        fit = SlotFit(slot, shape, plan)
        out.append(fit)
        if plan.fits:
            budget = budget.minus(plan.vram_bytes, plan.ram_bytes)
            placed[key] = fit
    return out
