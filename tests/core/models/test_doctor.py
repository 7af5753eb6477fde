"""doctor: the report's logic on frozen hardware, and the real command on this machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.core.models.doctor import FAIL, run_doctor
from app.core.models.hardware import GiB, fixed_snapshot
from tests.cli.test_cli import nanobot
from tests.file_server import file_server
from tests.gguf_fixture import write_gguf

NO_PROBE: dict[str, int] = {}


def write_config(home: Path, text: str) -> Path:
    cfg = home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return cfg


def huge_gguf(path: Path, gib: int) -> Path:
    """A GGUF whose header is real and whose (sparse) size claims ``gib`` GiB."""
    write_gguf(path, layers=48, kv_heads=4, heads=32, embedding=4096, context=262144)
    with path.open("r+b") as fh:
        fh.truncate(gib * GiB)
    return path


async def test_two_gpus_make_a_beast_and_are_listed(nanobot_home: Path) -> None:
    hw = fixed_snapshot(ram_gib=64, gpus=[("RTX 4090", 24, 1), ("RTX 4090", 24, 1)])
    report = await run_doctor(hw=hw, env={}, probe_ports=NO_PROBE)
    assert report.tier.tier.value == "beast"
    gpus = [c for c in report.section("hardware") if c.name.startswith("gpu")]
    assert [c.detail.split(":")[0] for c in gpus] == ["RTX 4090", "RTX 4090"]
    assert report.recommendation.slot("main").candidate.ref.startswith("qwen3-30b-a3b")
    data = report.to_dict()
    assert data["tier"] == "beast" and len(data["hardware"]["gpus"]) == 2


async def test_no_gpu_is_information_not_a_problem(nanobot_home: Path) -> None:
    report = await run_doctor(hw=fixed_snapshot(ram_gib=24), env={}, probe_ports=NO_PROBE)
    gpu = next(c for c in report.section("hardware") if c.name == "gpu")
    assert gpu.status == "info" and "no NVIDIA driver or GPU" in gpu.detail
    assert report.tier.tier.value == "sweet"


async def test_a_model_too_big_is_named_before_loading(nanobot_home: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    big = huge_gguf(models / "Qwen3-30B-A3B-Q4_K_S.gguf", 18)
    write_config(nanobot_home, f'[local]\nmodel_dirs = ["{models}"]\n'
                               f'[local.main]\npath = "{big}"\n')
    report = await run_doctor(hw=fixed_snapshot(ram_gib=8), env={}, probe_ports=NO_PROBE)
    fit = next(c for c in report.section("fits") if "Qwen3-30B" in c.name or "Tiny" in c.name)
    assert fit.status == FAIL and "too big here: needs about" in fit.detail
    assert "fits here: Qwen2.5-Coder-0.5B" in fit.fix
    slot = next(c for c in report.section("config") if c.name == "local.main")
    assert slot.status == FAIL and "will not fit" in slot.detail and "smaller model" in slot.fix
    assert report.worst == FAIL


async def test_context_too_large_for_the_machine(nanobot_home: Path, tmp_path: Path) -> None:
    m = write_gguf(tmp_path / "small.gguf", layers=24, kv_heads=8, heads=16, embedding=2048,
                   context=131072)
    write_config(nanobot_home, f'[local]\nmodel_dirs = ["{tmp_path}"]\n'
                               f'[local.main]\npath = "{m}"\ncontext_size = 131072\n')
    report = await run_doctor(hw=fixed_snapshot(ram_gib=6, ram_available_gib=4), env={},
                              probe_ports=NO_PROBE)
    warn = next(c for c in report.section("config") if c.name == "local.main.context_size")
    assert warn.status == "warn" and warn.fix.startswith("set local.main.context_size = ")


async def test_bad_config_and_refused_keys_come_with_fixes(nanobot_home: Path) -> None:
    with file_server() as host:
        host.status_for["/v1/models"] = 401
        write_config(nanobot_home, f'[providers.cloud]\nbase_url = "{host.base}/v1"\n'
                                   'api_key_env = "CLOUD_KEY"\nmodels = ["m"]\n')
        report = await run_doctor(hw=fixed_snapshot(), env={"CLOUD_KEY": "sk-wrong-123456"},
                                  probe_ports=NO_PROBE)
    cloud = next(c for c in report.section("providers") if c.name == "cloud")
    assert cloud.status == FAIL and "refused the key (401)" in cloud.detail
    assert cloud.fix == "export CLOUD_KEY=<your key>"
    write_config(nanobot_home, "[local.main]\ncontext_size = 'big'\n")
    report = await run_doctor(hw=fixed_snapshot(), env={}, probe_ports=NO_PROBE)
    file = next(c for c in report.section("config") if c.name == "file")
    assert file.status == FAIL and "local.main.context_size" in file.detail
    assert "nanobot config check" in file.fix


async def test_unset_key_and_discovered_server(nanobot_home: Path) -> None:
    with file_server() as host:
        host.add("v1/models", json.dumps({"data": [{"id": "llama-3"}]}).encode())
        port = int(host.base.rsplit(":", 1)[1])
        write_config(nanobot_home, '[providers.openai]\nbase_url = "https://api.openai.com/v1"\n'
                                   'api_key_env = "OPENAI_API_KEY"\nmodels = ["gpt-4.1-mini"]\n')
        report = await run_doctor(hw=fixed_snapshot(), env={}, probe_ports={"llamacpp": port},
                                  http_timeout=0.5)
    found = next(c for c in report.section("providers") if c.name == "found llamacpp")
    assert "llama-3" in found.detail
    unset = next(c for c in report.section("config") if c.name == "providers.openai.api_key_env")
    assert "OPENAI_API_KEY is not set" in unset.detail and unset.fix.startswith("export")


def test_doctor_on_this_machine(nanobot_home: Path) -> None:
    """The real command: the tier must follow the documented rule from the measured numbers."""
    proc = nanobot("doctor", "--json", env={"NANOBOT_HOME": str(nanobot_home)}, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    hw = data["hardware"]
    vram = sum(g["mem_total"] for g in hw["gpus"])
    if not vram and hw["unified_memory"]:
        vram = int(hw["ram_total"] * 0.75)
    expected = ("beast" if vram >= 30 * GiB else "power" if vram >= 15 * GiB else
                "sweet" if vram >= 5.5 * GiB or hw["ram_total"] >= 15 * GiB else "potato")
    assert data["tier"] == expected
    if not hw["gpus"] and 15 * GiB <= hw["ram_total"] < 32 * GiB and not hw["unified_memory"]:
        assert data["tier"] == "sweet"  # the build machine: 24 GiB, 2 cores, no GPU
    assert hw["cores_logical"] == os.cpu_count()
    default = next(f for f in data["fits"] if f["path"] == "embedded:qwen2.5-coder-0.5b")
    assert default["kv_bytes_per_token"] == 12288
    if hw["ram_available"] > 4 * GiB:
        assert default["fits"] and default["max_context"] >= 8192
    assert [r["slot"] for r in data["recommendations"]] == ["main", "rlm", "memory"]
    text = nanobot("doctor", env={"NANOBOT_HOME": str(nanobot_home)}, timeout=120)
    assert f"tier {expected.capitalize()}" in text.stdout and "Fits" in text.stdout
