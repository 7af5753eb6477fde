"""Samplers: how the engine asks for samples, and how one is built from a process spec.

A batch is the samples of one voting round; they are independent, so a sampler may run them
concurrently (the endpoint pool does). Real samplers read only ``prompt``; a simulated sampler may
also read the structured ``state`` it is given, as a stand-in for a model reading the prompt.

Samplers are built from the plain dicts stored in a process spec, so a resume rebuilds the same
ones. Kinds:
- ``{"kind": "local", "model": "local" | "local:rlm" | MODEL_ID | PATH.gguf}``: the in-process model.
- ``{"kind": "http", "label": NAME, "endpoints": [{"url", "model", "parallel", "grammar",
  "api_key_env"}]}``: OpenAI-compatible servers (llama_cpp.server, llama.cpp, vLLM ...).
- ``{"kind": "sim", "p": 0.99, ...}``: the simulated Hanoi model (see ``sim.py``).
- ``{"kind": "python", "ref": "FILE.py:FACTORY", "label": NAME}``: ``FACTORY(task, seed)`` builds
  the sampler (a user task's simulated model, or a backend of the user's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from app.core.agent.cancel import CancelToken
from app.core.process.spec import SpecError
from app.core.process.task import Prompt, Task
from app.core.providers.openai_http import OpenAIHTTPProvider
from app.core.settings.config import Config, load_config


class SamplerError(Exception):
    """No sample can be had (every endpoint failed): the process stops, visibly and resumably."""


class SampleRequest(NamedTuple):
    prompt: Prompt
    temperature: float
    max_tokens: int
    seed: int  # derived from (process seed, step, index): a resumed step draws the same samples
    step: int
    idx: int  # the sample's number within its step
    state: Any = None
    prev_action: Any = None


class SampleResult(NamedTuple):
    text: str
    tokens: int  # completion tokens (-1 when the server did not say)
    finish: str  # "stop", "length" (hit max_tokens) or what the server reported
    endpoint: str
    seconds: float = 0.0
    reissued: int = 0  # how many times this sample moved to another endpoint after a failure


class Sampler(Protocol):
    label: str  # the model, as calibration records and lookups name it

    async def sample(self, requests: Sequence[SampleRequest],
                     cancel: CancelToken) -> list[SampleResult]: ...

    async def aclose(self) -> None: ...


def sample_seed(process_seed: int, step: int, index: int) -> int:
    """A 31-bit seed per sample (llama.cpp and most servers take a signed 32-bit seed)."""
    x = (process_seed * 0x9E3779B1 + step * 0x85EBCA77 + index * 0xC2B2AE3D) & 0xFFFFFFFFFFFF
    x ^= x >> 17
    x = (x * 0x27D4EB2F) & 0xFFFFFFFFFFFF
    return (x >> 13) & 0x7FFFFFFF


# --- building samplers from a spec -------------------------------------------------------------

SIM_KEYS = {"p", "malformed", "overlong", "inconsistent", "correlated", "hard_error",
            "hard_flagged", "delay_ms"}


def parse_endpoint(text: str, *, parallel: int = 1, grammar: str = "llama",
                   model: str = "default") -> dict[str, Any]:
    """``URL[,parallel=N][,grammar=llama|vllm|none][,model=NAME][,api_key_env=VAR]``."""
    url, *opts = [p.strip() for p in text.split(",")]
    if not url.startswith(("http://", "https://")):
        raise SpecError(f"endpoint {text!r}: expected an http(s):// URL first")
    ep: dict[str, Any] = {"url": url.rstrip("/"), "parallel": parallel, "grammar": grammar,
                          "model": model, "api_key_env": ""}
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep or key not in ("parallel", "grammar", "model", "api_key_env"):
            raise SpecError(f"endpoint {text!r}: unknown option {opt!r} "
                            "(parallel=N, grammar=llama|vllm|none, model=NAME, api_key_env=VAR)")
        ep[key] = int(value) if key == "parallel" and value.isdigit() else value
    check_endpoint(ep)
    return ep


def check_endpoint(ep: dict[str, Any]) -> None:
    from app.core.process.pool import GRAMMAR_FIELDS  # the pool imports this module's types

    if not isinstance(ep.get("parallel"), int) or ep["parallel"] < 1:
        raise SpecError(f"endpoint {ep.get('url')}: parallel must be an integer >= 1")
    if ep.get("grammar") not in GRAMMAR_FIELDS:
        raise SpecError(f"endpoint {ep.get('url')}: grammar must be one of "
                        f"{', '.join(GRAMMAR_FIELDS)}")


def check_sampler(conf: dict[str, Any], task: Task) -> None:
    """Reject a sampler description that cannot work, before anything runs."""
    kind = conf.get("kind")
    if kind == "sim":
        if task.name != "hanoi":
            raise SpecError("the simulated sampler only knows the hanoi task")
        unknown = set(conf) - SIM_KEYS - {"kind"}
        if unknown:
            raise SpecError(f"sim: unknown setting(s) {', '.join(sorted(unknown))}")
        from app.core.process.sim import SimConfig

        try:
            SimConfig(**{k: v for k, v in conf.items() if k != "kind"}).check()
        except (ValueError, TypeError) as exc:
            raise SpecError(str(exc)) from exc
    elif kind == "http":
        endpoints = conf.get("endpoints")
        if not isinstance(endpoints, list) or not endpoints:
            raise SpecError("http sampler: at least one endpoint is needed")
        for ep in endpoints:
            check_endpoint(ep)
    elif kind == "python":
        if not isinstance(conf.get("ref"), str) or ":" not in conf["ref"]:
            raise SpecError("python sampler: ref must be FILE.py:FACTORY or module:FACTORY")
    elif kind != "local":
        raise SpecError(f"unknown sampler kind {kind!r} (local, http, python or sim)")


def build_sampler(conf: dict[str, Any], task: Task, *, seed: int = 0,
                  config: Config | None = None) -> Sampler:
    from app.core.process.pool import GRAMMAR_FIELDS, EndpointPool, PoolMember

    check_sampler(conf, task)
    kind = conf["kind"]
    if kind == "python":
        # A sampler of the user's own (FACTORY(task, seed) -> Sampler), e.g. a simulated model.
        from app.core.process.loader import load_ref

        sampler: Sampler = load_ref(conf["ref"])(task, seed)
        return sampler
    if kind == "sim":
        # Imported here: the simulated model uses the solver, which a model run must not load.
        from app.core.process.sim import SimConfig, SimulatedHanoiSampler

        sim = SimConfig(**{k: v for k, v in conf.items() if k != "kind"})
        return SimulatedHanoiSampler(int(task.params["disks"]), str(task.params["format"]), sim,
                                     seed=seed)
    if kind == "http":
        endpoints = [
            PoolMember(name=ep["url"], provider=OpenAIHTTPProvider(
                ep["url"], ep.get("model") or "default", api_key_env=ep.get("api_key_env", ""),
                name=ep["url"], native_tool_calls=False),
                parallel=int(ep["parallel"]), grammar_field=GRAMMAR_FIELDS[ep["grammar"]])
            for ep in conf["endpoints"]]
        return EndpointPool(endpoints, label=str(conf.get("label") or endpoints[0].provider.model))
    from app.core.providers.registry import build_provider

    selection = build_provider(config or load_config(), str(conf.get("model") or "local"))
    provider = selection.provider
    return EndpointPool([PoolMember(name=f"in-process:{provider.model}", provider=provider,
                                  parallel=1, grammar_field="grammar")], label=provider.model)


def sampler_label(conf: dict[str, Any], config: Config | None = None) -> str:
    """The model name a sampler will report, without connecting to or loading anything."""
    kind = conf.get("kind")
    if kind == "sim":
        return f"sim(p={conf.get('p', 0.99)})"
    if kind == "python":
        return str(conf.get("label") or conf.get("ref"))
    if kind == "http":
        endpoints = conf.get("endpoints") or [{}]
        return str(conf.get("label") or endpoints[0].get("model") or "default")
    from app.core.providers.registry import build_provider

    return build_provider(config or load_config(), str(conf.get("model") or "local")).provider.model
