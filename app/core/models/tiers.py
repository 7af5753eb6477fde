"""Hardware tiers: Potato, Sweet, Power, Beast. One definition, used by doctor, setup and the UI.

Two numbers decide the tier:

- **VRAM** = the total memory of all NVIDIA GPUs NVML reports (totals, not free: what is free
  changes with whatever happens to be loaded). On unified-memory machines (Apple Silicon) the GPU
  can use about three quarters of RAM, so VRAM = 0.75 x RAM there.
- **RAM** = total system memory.

==========  ================================  =====================================================
Tier        Rule (first that matches)         What it runs (see assets/model_catalog.json)
==========  ================================  =====================================================
Beast       VRAM >= 30 GiB                    Qwen3-30B-A3B-Instruct-2507 Q6_K/Q5_K_M/Q4_K_M on GPU
Power       VRAM >= 15 GiB                    Qwen3-30B-A3B-Instruct-2507 Q4_K_S on GPU (+ RAM)
Sweet       VRAM >= 5.5 GiB or RAM >= 15 GiB  the embedded default for main, Nanbeige4.1-3B for rlm
Potato      anything else                     the embedded default, small models for rlm/memory
==========  ================================  =====================================================

The cut-offs are the marketed sizes (32, 16, 6 and 16 GB) less the few percent that drivers and
firmware keep: a "16 GB" card reports 15.99 GiB and a 16 GB laptop about 15.5 GiB of RAM.
CPU cores do not change the tier; doctor reports them as a speed note instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from app.core.models.hardware import GiB, HardwareSnapshot

UNIFIED_GPU_SHARE = 0.75


class Tier(Enum):
    POTATO = "potato"
    SWEET = "sweet"
    POWER = "power"
    BEAST = "beast"

    @property
    def label(self) -> str:
        return self.value.capitalize()


BEAST_VRAM = 30.0 * GiB
POWER_VRAM = 15.0 * GiB
SWEET_VRAM = 5.5 * GiB
SWEET_RAM = 15.0 * GiB


@dataclass(frozen=True)
class TierVerdict:
    tier: Tier
    vram: int
    ram: int
    reason: str


def effective_vram(hw: HardwareSnapshot) -> int:
    if hw.vram_total:
        return hw.vram_total
    if hw.unified_memory:
        return int(hw.ram_total * UNIFIED_GPU_SHARE)
    return 0


def classify(hw: HardwareSnapshot) -> TierVerdict:
    vram, ram = effective_vram(hw), hw.ram_total
    where = ("unified memory: 75% of RAM" if hw.unified_memory and not hw.vram_total
             else f"{hw.gpu_count} GPU(s)" if hw.gpu_count else "no GPU")
    v, r = vram / GiB, ram / GiB
    if vram >= BEAST_VRAM:
        return TierVerdict(Tier.BEAST, vram, ram, f"VRAM {v:.1f} GiB >= 30 ({where})")
    if vram >= POWER_VRAM:
        return TierVerdict(Tier.POWER, vram, ram, f"VRAM {v:.1f} GiB >= 15 ({where})")
    if vram >= SWEET_VRAM:
        return TierVerdict(Tier.SWEET, vram, ram, f"VRAM {v:.1f} GiB >= 5.5 ({where})")
    if ram >= SWEET_RAM:
        return TierVerdict(Tier.SWEET, vram, ram, f"RAM {r:.1f} GiB >= 15, VRAM {v:.1f} GiB "
                                                  f"({where})")
    return TierVerdict(Tier.POTATO, vram, ram, f"RAM {r:.1f} GiB < 15 and VRAM {v:.1f} GiB < 5.5 "
                                               f"({where})")
