"""Configuration: TOML in the config dir into frozen dataclasses, validated at load.

Every error names the file, the key and what was expected; a bad file is never overwritten. New
sections are added by declaring a dataclass and a field on :class:`Config`: the loader walks the
type hints, so validation comes for free.
"""

from __future__ import annotations

import dataclasses
import errno
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.harness.config import HarnessConfig
from app.core.mcp.settings import McpServerConfig
from app.core.mcp.settings import problems as mcp_problems
from app.core.settings.paths import atomic_write_text, get_paths
from app.core.settings.tool_config import PermissionsConfig, ToolsConfig, problems

SLOTS = ("main", "rlm", "memory")
MAX_CONTEXT = 16_777_216  # tokens: beyond any model's window; a bigger number is a typo


class ConfigError(Exception):
    def __init__(self, file: Path | str, key: str, expected: str, got: Any = None) -> None:
        self.file, self.key, self.expected = str(file), key, expected
        got_txt = "" if got is None else f", got {got!r}"
        super().__init__(f"{self.file}: key '{key}': expected {expected}{got_txt}")


@dataclass(frozen=True)
class SlotConfig:
    """One local model slot. An empty slot falls back to ``main``; empty main = the default."""

    model: str = ""
    path: str = ""
    gpu_layers: int = 0
    context_size: int = 8192
    temperature: float = 0.0  # greedy: small models lose accuracy fast when sampling
    serve: str = "inprocess"  # or "server": a managed llama.cpp server on its own port
    port: int = 0  # server port; 0 = pick a free one
    lora: str = ""  # a LoRA adapter (GGUF) applied to this slot's model
    lora_scale: float = 1.0

    @property
    def empty(self) -> bool:
        return not self.model and not self.path


@dataclass(frozen=True)
class LocalConfig:
    main: SlotConfig = field(default_factory=SlotConfig)
    rlm: SlotConfig = field(default_factory=SlotConfig)
    memory: SlotConfig = field(default_factory=SlotConfig)
    threads: int = 0  # 0 = all cores
    model_dirs: tuple[str, ...] = ()  # where doctor/setup/the model picker look for GGUFs
    server_binary: str = "auto"  # "auto" (llama-server if on PATH), "llama-server", "python"
    max_servers: int = 3

    def slot(self, name: str) -> SlotConfig:
        chosen: SlotConfig = getattr(self, name)
        return self.main if chosen.empty else chosen


@dataclass(frozen=True)
class ProviderConfig:
    """An OpenAI-compatible endpoint."""

    base_url: str = ""
    api_key_env: str = ""
    models: tuple[str, ...] = ()
    context_window: int = 0  # 0 = unknown; then the provider probes or assumes 32768


@dataclass(frozen=True)
class AgentConfig:
    provider: str = "local"  # "local" = slot main, or the name of a [providers.NAME] table
    model: str = ""
    max_iterations: int = 20
    max_tokens: int = 2048
    workspace: str = ""  # empty = the directory Nanobot was started in
    system_prompt: str = ""


@dataclass(frozen=True)
class RouterConfig:
    """Per-turn light/standard/heavy routing; targets use provider names ("" = main)."""

    enabled: bool = True
    light: str = ""
    standard: str = ""
    heavy: str = ""
    light_below: float = 2.0  # score < this = light
    heavy_from: float = 6.0  # score >= this = heavy


@dataclass(frozen=True)
class ResilienceConfig:
    """Retries, circuit breakers and zero-config discovery of local servers."""

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    breaker_threshold: int = 3
    breaker_cooldown: float = 30.0
    probe_local: bool = True  # look for servers on 8080 (llama.cpp), 1234 (LM Studio), 11434
    first_byte_timeout_s: float = 120.0  # from a request to the first byte of its reply
    idle_timeout_s: float = 60.0  # between two reads of a reply that has started
    wait_notice_s: float = 10.0  # a "waiting for the server" notice after this long


@dataclass(frozen=True)
class UIConfig:
    theme: str = "nanobot-dark"
    show_thinking: bool = True


@dataclass(frozen=True)
class ContextConfig:
    """Compaction tiers as fractions of the model's effective window, and their guards."""

    background_at: float = 0.80  # background summary by the memory-slot model
    mask_at: float = 0.85  # old tool outputs become one-line stubs
    emergency_at: float = 0.95  # deterministic truncation
    summary_timeout_s: float = 30.0  # the least a summary call gets (its measured speed decides)
    breaker_failures: int = 3  # consecutive summary failures before summaries stop
    protect_recent_outputs: int = 2  # newest tool outputs never masked


@dataclass(frozen=True)
class SwarmConfig:
    """Workers spawned by the ``spawn`` tool."""

    max_depth: int = 3
    max_concurrent: int = 4
    timeout_s: float = 600.0  # wall-clock budget of a top-level worker
    token_budget: int = 200_000  # tokens a top-level worker and its children may use
    # Branches: forks of the conversation that think on the side with read-only tools.
    max_branches: int = 2  # running at once
    branch_timeout_s: float = 300.0
    branch_token_budget: int = 60_000
    branch_max_iterations: int = 8


@dataclass(frozen=True)
class MemoryConfig:
    """Long-term memory (facts and past sessions) and the memory briefing in the prompt."""

    enabled: bool = True
    auto_recall: int = 3  # facts matching the user's message noted at each turn (0 = off)
    half_life_days: float = 30.0  # a fact's weight halves per this many days unused
    forget_below: float = 0.1  # unpinned facts whose weight falls below this are dropped
    merge_similarity: float = 0.75  # word overlap at which a new fact merges into an old one
    index_sessions: bool = True  # past sessions searchable by recall
    bulletin: bool = True
    bulletin_delay_s: float = 120.0  # first briefing this long after start-up
    bulletin_every_s: float = 3600.0  # then this often
    bulletin_words: int = 300
    timeout_s: float = 0.0  # per memory-model call; 0 = from the model's measured speed


@dataclass(frozen=True)
class RlmConfig:
    """The reader (RLM delegate) on the ``rlm`` slot's model: it reads tool output that is too
    large for the window, or that needs interpreting, so the main model gets a finding instead."""

    enabled: bool = True
    interpret_tools: tuple[str, ...] = ("exec", "web_fetch", "web_search")
    interpret_min_chars: int = 2000  # shorter output of those tools goes in raw
    budget_scale: float = 4.0  # base budgets (3 / 8 / 20 s) x this: CPU models take seconds a round
    max_rounds: int = 6


@dataclass(frozen=True)
class LearningConfig:
    """Traces of every turn, recipes learned from repeated successes, calibrated budgets (P3)."""

    traces: bool = True  # record each turn in the trace log (state dir, traces/)
    recipes: bool = True  # learn recipes from repeated successes and run them on matching tasks
    budgets: bool = True  # step budgets from history, and the flag on a task taking 10x the norm
    crystallise_after: int = 3  # successes of one kind of task before a recipe is learned
    min_confidence: float = 0.75  # share of that kind's successes that used one tool sequence
    answer_forms: bool = True  # a recipe whose runs answered in one form answers so, no model
    category_similarity: float = 0.75  # how alike two requests' shapes are to be one kind
    demote_window: int = 4  # a recipe's last uses that decide demotion
    demote_below: float = 0.5  # demoted when the success rate over that window falls below this
    budget_min_runs: int = 5  # successful runs of a kind before its budget and norm apply
    flag_factor: float = 10.0  # flag a task taking this many times its kind's median
    keep_days: int = 30  # trace files older than this are removed (0 = keep all)


@dataclass(frozen=True)
class Config:
    agent: AgentConfig = field(default_factory=AgentConfig)
    local: LocalConfig = field(default_factory=LocalConfig)
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # short name -> provider target
    roles: dict[str, str] = field(default_factory=dict)  # main/rlm/memory/... -> target
    fallback: dict[str, tuple[str, ...]] = field(default_factory=dict)  # role -> chain
    router: RouterConfig = field(default_factory=RouterConfig)
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    keymap: dict[str, str] = field(default_factory=dict)
    context: ContextConfig = field(default_factory=ContextConfig)
    swarm: SwarmConfig = field(default_factory=SwarmConfig)
    rlm: RlmConfig = field(default_factory=RlmConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    permissions: PermissionsConfig = field(default_factory=PermissionsConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    learning: LearningConfig = field(default_factory=LearningConfig)
    log_level: str = "info"  # debug, info, warning or error (--verbose / --quiet override)
    harness: HarnessConfig = field(default_factory=HarnessConfig)
    source: str = ""  # the file this came from ("" = defaults)


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (tuple, list):
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a table of {_type_name(typing.get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, str(tp))


def _convert(tp: Any, value: Any, key: str, file: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _convert(args[0], value, key, file)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(file, key, "a table", value)
        return _build(tp, value, key, file)
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise ConfigError(file, key, _type_name(tp), value)
        (inner,) = typing.get_args(tp)[:1]
        return tuple(_convert(inner, v, f"{key}[{i}]", file) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(file, key, _type_name(tp), value)
        inner = typing.get_args(tp)[1]
        return {str(k): _convert(inner, v, f"{key}.{k}", file) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, key, "true or false", value)
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(file, key, "an integer", value)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(file, key, "a number", value)
        if not math.isfinite(value):
            raise ConfigError(file, key, "a finite number", value)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(file, key, "a string", value)
        return value
    return value


# Keys that configs written by an earlier version may hold and that no longer mean anything: they
# are read and ignored, so such a config keeps working. (Unknown keys stay errors: a typo must
# not pass silently.)
RETIRED_KEYS = frozenset({
    "context.coalesce_window_ms",  # message coalescing was removed: Enter always sends at once
})


def _build(cls: Any, table: dict[str, Any], prefix: str, file: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source"]
    kwargs: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else k
        if key in RETIRED_KEYS:
            continue
        if k not in names:
            raise ConfigError(file, key, "one of " + ", ".join(names), None)
        kwargs[k] = _convert(hints[k], v, key, file)
    return cls(**kwargs)


def _validate(cfg: Config, file: str) -> None:
    for slot in SLOTS:
        s: SlotConfig = getattr(cfg.local, slot)
        if not 256 <= s.context_size <= MAX_CONTEXT:
            raise ConfigError(file, f"local.{slot}.context_size",
                              f"an integer from 256 to {MAX_CONTEXT:,}", s.context_size)
        if not 0.0 <= s.temperature <= 2.0:
            raise ConfigError(file, f"local.{slot}.temperature", "a number from 0 to 2",
                              s.temperature)
        if s.gpu_layers < -1:
            raise ConfigError(file, f"local.{slot}.gpu_layers", "-1 (all) or a count >= 0",
                              s.gpu_layers)
        if s.serve not in ("inprocess", "server"):
            raise ConfigError(file, f"local.{slot}.serve", "'inprocess' or 'server'", s.serve)
        if not 0 <= s.port <= 65535:
            raise ConfigError(file, f"local.{slot}.port", "0 (any free port) to 65535", s.port)
        if not -4.0 <= s.lora_scale <= 4.0:
            raise ConfigError(file, f"local.{slot}.lora_scale", "a number from -4 to 4",
                              s.lora_scale)
    _validate_ranges(cfg, file)
    if not 1 <= cfg.local.max_servers <= 3:
        raise ConfigError(file, "local.max_servers", "1 to 3", cfg.local.max_servers)
    if cfg.local.server_binary not in ("auto", "llama-server", "python"):
        raise ConfigError(file, "local.server_binary", "'auto', 'llama-server' or 'python'",
                          cfg.local.server_binary)
    if not 0 <= cfg.router.light_below <= cfg.router.heavy_from:
        raise ConfigError(file, "router.light_below", "a number from 0 to router.heavy_from",
                          cfg.router.light_below)
    if cfg.log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(file, "log_level", "debug, info, warning or error", cfg.log_level)
    if cfg.agent.max_iterations < 1:
        raise ConfigError(file, "agent.max_iterations", "an integer >= 1", cfg.agent.max_iterations)
    if cfg.agent.provider != "local" and cfg.agent.provider not in cfg.providers:
        known = ", ".join(["local", *cfg.providers]) or "local"
        raise ConfigError(file, "agent.provider", f"'local' or a configured provider ({known})",
                          cfg.agent.provider)
    _validate_context(cfg, file)
    _validate_learning(cfg, file)
    for name, p in cfg.providers.items():
        if not p.base_url.startswith(("http://", "https://")):
            raise ConfigError(file, f"providers.{name}.base_url", "an http(s):// URL", p.base_url)
    for key, expected, got in [*problems(cfg.permissions, cfg.tools),
                               *mcp_problems(cfg.mcp_servers)]:
        raise ConfigError(file, key, expected, got)


def _validate_ranges(cfg: Config, file: str) -> None:
    """Counts, sizes and durations: a value out of range names its key and the range."""
    r = cfg.resilience
    ints = (
        ("agent.max_tokens", cfg.agent.max_tokens, 1, 1_000_000),
        ("local.threads", cfg.local.threads, 0, 1024),
        ("resilience.max_retries", r.max_retries, 0, 20),
        ("resilience.breaker_threshold", r.breaker_threshold, 1, 1000),
        *((f"providers.{n}.context_window", p.context_window, 0, MAX_CONTEXT)
          for n, p in cfg.providers.items()),
    )
    for key, value, low, high in ints:
        if not low <= value <= high:
            raise ConfigError(file, key, f"an integer from {low:,} to {high:,}", value)
    for name, p in cfg.providers.items():
        if 0 < p.context_window < 256:
            raise ConfigError(file, f"providers.{name}.context_window",
                              "0 (unknown) or at least 256", p.context_window)
    floats = (
        ("resilience.base_delay", r.base_delay, 0.0, 3600.0),
        ("resilience.max_delay", r.max_delay, r.base_delay, 3600.0),
        ("resilience.breaker_cooldown", r.breaker_cooldown, 0.0, 86400.0),
        ("resilience.first_byte_timeout_s", r.first_byte_timeout_s, 0.001, 86400.0),
        ("resilience.idle_timeout_s", r.idle_timeout_s, 0.001, 86400.0),
        ("resilience.wait_notice_s", r.wait_notice_s, 0.001, 86400.0),
    )
    for key, fvalue, flow, fhigh in floats:
        if not flow <= fvalue <= fhigh:
            raise ConfigError(file, key, f"a number from {flow:g} to {fhigh:g}", fvalue)


def _validate_context(cfg: Config, file: str) -> None:
    c, w = cfg.context, cfg.swarm
    if not 0.0 < c.background_at <= c.mask_at <= c.emergency_at <= 1.0:
        raise ConfigError(file, "context.background_at/mask_at/emergency_at",
                          "fractions with 0 < background_at <= mask_at <= emergency_at <= 1",
                          (c.background_at, c.mask_at, c.emergency_at))
    for key, value in (("context.summary_timeout_s", c.summary_timeout_s),
                       ("swarm.timeout_s", w.timeout_s),
                       ("swarm.branch_timeout_s", w.branch_timeout_s),
                       ("memory.half_life_days", cfg.memory.half_life_days),
                       ("memory.bulletin_every_s", cfg.memory.bulletin_every_s)):
        if value <= 0:
            raise ConfigError(file, key, "a number > 0", value)
    for key, value, low in (("context.breaker_failures", c.breaker_failures, 1),
                            ("context.protect_recent_outputs", c.protect_recent_outputs, 0),
                            ("swarm.max_concurrent", w.max_concurrent, 1),
                            ("swarm.token_budget", w.token_budget, 1),
                            ("swarm.max_branches", w.max_branches, 0),
                            ("swarm.branch_token_budget", w.branch_token_budget, 1),
                            ("swarm.branch_max_iterations", w.branch_max_iterations, 1),
                            ("memory.auto_recall", cfg.memory.auto_recall, 0),
                            ("memory.bulletin_words", cfg.memory.bulletin_words, 50)):
        if value < low:
            raise ConfigError(file, key, f"an integer >= {low}", value)
    if not 1 <= w.max_depth <= 8:
        raise ConfigError(file, "swarm.max_depth", "an integer from 1 to 8", w.max_depth)
    m = cfg.memory
    for key, value in (("memory.forget_below", m.forget_below),
                       ("memory.merge_similarity", m.merge_similarity)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(file, key, "a number from 0 to 1", value)
    for key, value in (("memory.bulletin_delay_s", m.bulletin_delay_s),
                       ("memory.timeout_s", m.timeout_s)):
        if value < 0:
            raise ConfigError(file, key, "a number >= 0", value)


def _validate_learning(cfg: Config, file: str) -> None:
    lc = cfg.learning
    for key, value in (("learning.min_confidence", lc.min_confidence),
                       ("learning.category_similarity", lc.category_similarity),
                       ("learning.demote_below", lc.demote_below)):
        if not 0.0 < value <= 1.0:
            raise ConfigError(file, key, "a fraction above 0, at most 1", value)
    for key, ivalue, low in (("learning.crystallise_after", lc.crystallise_after, 1),
                             ("learning.demote_window", lc.demote_window, 2),
                             ("learning.budget_min_runs", lc.budget_min_runs, 1),
                             ("learning.keep_days", lc.keep_days, 0)):
        if ivalue < low:
            raise ConfigError(file, key, f"an integer >= {low}", ivalue)
    if lc.flag_factor <= 1.0:
        raise ConfigError(file, "learning.flag_factor", "a number > 1", lc.flag_factor)


def parse_config(text: str, file: Path | str = "<config>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(file, "(syntax)", f"valid TOML ({exc})") from exc
    cfg: Config = _build(Config, data, "", str(file))
    cfg = dataclasses.replace(cfg, source=str(file))
    _validate(cfg, str(file))
    return cfg


def load_config(path: Path | None = None) -> Config:
    """Load the config file; a missing file means all defaults."""
    path = path or get_paths().config_file
    for parent in (path.parent, *path.parent.parents):
        if parent.exists() and not parent.is_dir():
            raise ConfigError(path, "(file)", f"a directory at {parent} for the config file, "
                              "but that is a file; move it away")
        if parent.exists():
            break
    if not path.exists():
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(file)", f"a readable UTF-8 TOML file ({exc})") from exc
    return parse_config(text, path)


def template_text() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("config.template.toml").read_text(encoding="utf-8")


def write_template(path: Path | None = None, *, force: bool = False) -> Path:
    path = path or get_paths().config_file
    if path.exists() and not force:
        raise FileExistsError(str(path))
    for parent in path.parents:  # mkdir would call a file in the way "exists" too
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"{parent} is a file, not a directory")
            break
    atomic_write_text(path, template_text())
    return path
