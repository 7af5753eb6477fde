"""Tiers, fit maths and per-slot recommendations."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.models.discover import inspect, scan
from app.core.models.fit import GPU_COMPUTE, MemoryBudget, ModelShape, plan_fit, plan_slots
from app.core.models.gguf_meta import read_gguf
from app.core.models.hardware import GiB, fixed_snapshot
from app.core.models.model_catalog import CatalogError, find_by_filename, load_catalog, resolve
from app.core.models.recommend import recommend
from app.core.models.tiers import Tier, classify
from tests.gguf_fixture import write_gguf

QWEN30 = ModelShape("qwen3-30b-a3b Q4_K_S", int(17.5e9), 48, 48 * 4 * 256 * 2, 262144)


@pytest.mark.parametrize("kwargs, tier", [
    ({"ram_gib": 8}, Tier.POTATO),
    ({"ram_gib": 15.5}, Tier.SWEET),  # a "16 GB" laptop
    ({"ram_gib": 24}, Tier.SWEET),  # this build machine: 24 GiB, no GPU
    ({"ram_gib": 8, "gpus": [("RTX 3060", 12, 0)]}, Tier.SWEET),
    ({"ram_gib": 32, "gpus": [("RTX 4080", 15.99, 0)]}, Tier.POWER),
    ({"ram_gib": 32, "gpus": [("RTX 3090", 24, 0)]}, Tier.POWER),
    ({"ram_gib": 64, "gpus": [("RTX 3090", 24, 0), ("RTX 3090", 24, 0)]}, Tier.BEAST),
    ({"ram_gib": 24, "unified": True, "system": "Darwin", "machine": "arm64"}, Tier.POWER),
    ({"ram_gib": 64, "unified": True, "system": "Darwin", "machine": "arm64"}, Tier.BEAST),
])
def test_tiers(kwargs: dict, tier: Tier) -> None:  # type: ignore[type-arg]
    verdict = classify(fixed_snapshot(**kwargs))
    assert verdict.tier is tier, verdict.reason


def test_kv_and_context_on_cpu(model_path: Path) -> None:
    shape = ModelShape.from_gguf(read_gguf(model_path))
    budget = MemoryBudget(vram=0, ram=2 * GiB)
    plan = plan_fit(shape, budget, want_context=4096)
    assert plan.fits and plan.device == "cpu" and plan.gpu_layers == 0
    assert plan.context == 4096 and plan.kv_bytes_per_token == 12288
    # What is left after weights and compute buffers, over 12 KiB/token, rounded to 1024.
    room = 2 * GiB - 256 * (1 << 20) - shape.file_bytes
    assert plan.max_context == min(32768, int(room / 12288) // 1024 * 1024)


def test_everything_on_a_big_gpu() -> None:
    plan = plan_fit(QWEN30, MemoryBudget(vram=40 * GiB, ram=8 * GiB), want_context=32768)
    assert plan.device == "gpu" and plan.gpu_layers == -1 and plan.ram_bytes == 0
    assert plan.context == 32768 and plan.max_context > 32768
    assert plan.vram_bytes == pytest.approx(QWEN30.file_bytes + 32768 * QWEN30.kv_bytes_per_token
                                            + GPU_COMPUTE, rel=1e-6)


def test_partial_offload_counts_layers() -> None:
    plan = plan_fit(QWEN30, MemoryBudget(vram=14 * GiB, ram=20 * GiB), want_context=16384)
    assert plan.device == "partial" and 0 < plan.gpu_layers < 48
    per_layer = QWEN30.per_layer()[0] + QWEN30.kv_bytes_per_token / 48 * 16384
    assert plan.gpu_layers == int((14 * GiB - GPU_COMPUTE) // per_layer)
    assert plan.vram_bytes <= 14 * GiB


def test_too_big_says_so_with_numbers() -> None:
    plan = plan_fit(QWEN30, MemoryBudget(vram=0, ram=6 * GiB))
    assert not plan.fits and plan.device == "none"
    assert "needs about 16.5 GiB" in plan.reason and "5.8 GiB is free" in plan.reason


def test_context_is_capped_by_training() -> None:
    tiny = ModelShape("tiny", 100 << 20, 4, 1024, 4096)
    plan = plan_fit(tiny, MemoryBudget(0, 16 * GiB), want_context=100_000)
    assert plan.context == 4096 and plan.max_context == 4096


def test_slots_share_a_model_and_split_the_budget() -> None:
    small = ModelShape("small", 1 * GiB, 10, 10 * 1024, 32768)
    fits = plan_slots([("main", QWEN30, 8192, True), ("rlm", small, 8192, False),
                       ("memory", small, 4096, False)], MemoryBudget(vram=24 * GiB, ram=12 * GiB))
    main, rlm, memory = fits
    assert main.plan.device == "gpu"
    assert rlm.plan.fits and memory.shared_with == "rlm" and memory.plan is rlm.plan


def test_helper_slots_stay_off_a_partial_gpu() -> None:
    mid = ModelShape("mid", 4 * GiB, 32, 32 * 2048, 32768)
    fits = plan_slots([("rlm", mid, 8192, False)], MemoryBudget(vram=2 * GiB, ram=16 * GiB))
    assert fits[0].plan.device == "cpu"


def test_catalog_entries_resolve() -> None:
    cat = load_catalog()
    nb = resolve("nanbeige4.1-3b:Q4_K_M", cat)
    assert nb.file is not None and nb.file.url.startswith("https://huggingface.co/")
    assert nb.shape.kv_bytes_per_token == 32 * 4 * 128 * 2 * 2  # 64 KiB/token
    emb = resolve("embedded:qwen2.5-coder-0.5b", cat)
    assert emb.is_embedded and emb.shape.layers == 24
    assert find_by_filename("qwen3-0.6b-q4_k_m.GGUF", cat) is not None
    with pytest.raises(CatalogError, match="unknown catalog entry"):
        resolve("nanbeige4.1-3b:Q1", cat)


def test_recommendations_on_this_kind_of_machine() -> None:
    rec = recommend(fixed_snapshot(ram_gib=24, ram_available_gib=21))
    assert rec.tier is Tier.SWEET
    assert [s.candidate.ref for s in rec.slots] == [
        "embedded:qwen2.5-coder-0.5b", "nanbeige4.1-3b:Q4_K_M", "qwen3-0.6b:Q4_K_M"]
    assert all(s.plan.fits and s.plan.device == "cpu" for s in rec.slots)
    assert rec.download_bytes == 2360000000 + 397000000


def test_power_puts_qwen3_30b_on_the_gpu() -> None:
    rec = recommend(fixed_snapshot(ram_gib=32, gpus=[("RTX 3090", 24, 0.5)]))
    main = rec.slot("main")
    assert rec.tier is Tier.POWER and main.candidate.ref.startswith("qwen3-30b-a3b")
    assert main.plan.device == "gpu"
    assert rec.slot("rlm").candidate.ref.startswith("nanbeige4.1-3b")


def test_beast_takes_the_biggest_quant_that_fits() -> None:
    rec = recommend(fixed_snapshot(ram_gib=64, gpus=[("A6000", 48, 0.5)]))
    assert rec.slot("main").candidate.ref == "qwen3-30b-a3b-instruct-2507:Q6_K"


def test_a_starved_machine_gets_the_embedded_model_and_reasons() -> None:
    rec = recommend(fixed_snapshot(ram_gib=6, ram_available_gib=3.2))
    rlm = rec.slot("rlm")
    assert rlm.candidate.is_embedded and rlm.shared_with == "main"
    assert any("Nanbeige4.1-3B Q4_K_M: needs about" in r for r in rlm.rejected)


def test_a_model_on_disk_is_used_instead_of_downloaded(tmp_path: Path) -> None:
    write_gguf(tmp_path / "Nanbeige4.1-3B.Q4_K_M.gguf", layers=32, kv_heads=4, heads=20,
               embedding=2560, context=262144)
    found = scan([tmp_path])
    rec = recommend(fixed_snapshot(ram_gib=24), found=found)
    rlm = rec.slot("rlm")
    assert rlm.local_path == (tmp_path / "Nanbeige4.1-3B.Q4_K_M.gguf").resolve()
    assert not rlm.needs_download and rec.download_bytes == 397000000


def test_scan_reports_broken_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_gguf(tmp_path / "sub" / "ok.gguf")
    (tmp_path / "bad.gguf").write_bytes(b"<html>not found</html>" * 3)
    (tmp_path / "notes.txt").write_text("x")
    found = {m.path.name: m for m in scan([tmp_path])}
    assert set(found) == {"ok.gguf", "bad.gguf"}
    assert found["ok.gguf"].ok and not found["bad.gguf"].ok
    assert "bad magic" in found["bad.gguf"].error
    assert inspect(tmp_path / "missing.gguf").error.startswith("cannot stat")
