"""Sampler descriptions: endpoint syntax, validation before anything runs, labels, sim settings."""

from __future__ import annotations

import pytest

from app.core.process.samplers import check_sampler, parse_endpoint, sample_seed, sampler_label
from app.core.process.spec import ProcessBudget, ProcessSpec, SpecError
from app.core.process.tasks.hanoi import HanoiTask
from tests.core.process.helpers import CounterTask


def test_endpoint_syntax() -> None:
    ep = parse_endpoint("http://h:8080/v1/,parallel=4,grammar=vllm,model=qwen")
    assert ep == {"url": "http://h:8080/v1", "parallel": 4, "grammar": "vllm", "model": "qwen",
                  "api_key_env": ""}
    for bad, msg in [("h:8080", "http"), ("http://h,parallel=0", "parallel"),
                     ("http://h,grammar=xml", "grammar"), ("http://h,speed=9", "unknown option"),
                     ("http://h,parallel=x", "parallel")]:
        with pytest.raises(SpecError, match=msg):
            parse_endpoint(bad)


def test_sampler_descriptions_are_checked() -> None:
    hanoi = HanoiTask(3)
    check_sampler({"kind": "sim", "p": 0.9}, hanoi)
    for conf, msg in [({"kind": "sim", "p": 1.5}, "between 0 and 1"),
                      ({"kind": "sim", "pp": 0.9}, "unknown setting"),
                      ({"kind": "http", "endpoints": []}, "at least one endpoint"),
                      ({"kind": "gpu"}, "unknown sampler kind")]:
        with pytest.raises(SpecError, match=msg):
            check_sampler(conf, hanoi)
    with pytest.raises(SpecError, match="only knows the hanoi task"):
        check_sampler({"kind": "sim"}, CounterTask(3))  # type: ignore[arg-type]
    assert sampler_label({"kind": "sim", "p": 0.97}) == "sim(p=0.97)"
    assert sampler_label({"kind": "http", "label": "", "endpoints": [{"model": "q"}]}) == "q"


def test_spec_checks_and_round_trips() -> None:
    spec = ProcessSpec(id="x", task="hanoi", params={"disks": 3}, k=3, sampler={"kind": "sim"},
                       budget=ProcessBudget(max_steps=10, max_wall_s=5.0), escalation=({"kind": "local"},))
    spec.check()
    assert ProcessSpec.from_json(spec.to_json()) == spec
    for bad in (dict(k=0), dict(tau=3.0), dict(token_cap=0), dict(max_rounds=0),
                dict(log_text="some"), dict(budget=ProcessBudget(max_wall_s=0))):
        with pytest.raises(SpecError):
            ProcessSpec(**{**spec.__dict__, **bad}).check()
    with pytest.raises(SpecError, match="unknown field"):
        ProcessSpec.from_json({**spec.to_json(), "colour": "red"})


def test_sample_seeds_are_distinct_and_stable() -> None:
    seeds = {sample_seed(7, step, i) for step in range(200) for i in range(10)}
    assert len(seeds) == 2000 and all(0 <= s < 2**31 for s in seeds)
    assert sample_seed(7, 5, 1) == sample_seed(7, 5, 1) != sample_seed(8, 5, 1)
