"""LoRA adapters: the header check, the server command lines, /model lora parsing, and, on the
real model, an adapter made here that changes the logits in proportion to its scale, switched
at runtime without reloading."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.models.commands import ModelCommandError, parse_model_command
from app.core.models.lora import AdapterError, check_adapter
from app.core.models.server import ServerSpec, server_command
from app.core.settings.config import ConfigError, parse_config
from tests.gguf_fixture import write_gguf, write_lora_adapter


def _adapter(path: Path, **kw: object) -> Path:
    return write_lora_adapter(path, {"blk.0.attn_q.weight": ([0.5] * 256, [0.25] * 256, 256,
                                                               256)}, **kw)  # type: ignore[arg-type]


def test_check_adapter_reads_the_header(tmp_path: Path) -> None:
    info = check_adapter(_adapter(tmp_path / "a.gguf", arch="llama", alpha=8.0))
    assert info.architecture == "llama" and info.alpha == 8.0 and info.tensors == 1


def test_check_adapter_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="not found"):
        check_adapter(tmp_path / "missing.gguf")
    model = write_gguf(tmp_path / "m.gguf", arch="llama")  # a model, not an adapter
    with pytest.raises(AdapterError, match="not a LoRA adapter"):
        check_adapter(model)
    with pytest.raises(AdapterError, match="made for a 'qwen2' model"):
        check_adapter(_adapter(tmp_path / "q.gguf", arch="qwen2"), model)
    # blk.0.attn_q.weight of this fixture holds 2,048 bytes: any shape but [256, 256] is wrong.
    bad = write_lora_adapter(tmp_path / "s.gguf", {"blk.0.ffn_up.weight": ([0.1] * 8, [0.1] * 8,
                                                                            8, 8)}, arch="llama")
    with pytest.raises(AdapterError, match="do not fit"):
        check_adapter(bad, model)
    (tmp_path / "junk.gguf").write_bytes(b"not a gguf at all, really")
    with pytest.raises(AdapterError, match="not a GGUF"):
        check_adapter(tmp_path / "junk.gguf")


def test_server_command_lines_carry_the_adapter(tmp_path: Path) -> None:
    spec = ServerSpec(model_path=tmp_path / "m.gguf", lora="/a/x.gguf", lora_scale=0.5)
    cmd, kind = server_command(spec, 8080, which=lambda _: "/usr/bin/llama-server")
    assert kind == "llama-server" and cmd[cmd.index("--lora-scaled") + 1:][:2] == ["/a/x.gguf",
                                                                                  "0.5"]
    cmd, kind = server_command(spec, 8080, which=lambda _: None)
    assert kind == "llama_cpp.server" and cmd[cmd.index("--lora_path") + 1] == "/a/x.gguf"
    plain, _ = server_command(ServerSpec(model_path=tmp_path / "m.gguf"), 8080,
                              which=lambda _: None)
    assert "--lora_path" not in plain


def test_model_lora_command_parsing() -> None:
    cmd = parse_model_command("lora /x/a.gguf 0.5")
    assert (cmd.action, cmd.slot, cmd.target, cmd.scale) == ("lora", "main", "/x/a.gguf", 0.5)
    cmd = parse_model_command("lora rlm off")
    assert (cmd.slot, cmd.target) == ("rlm", "")
    assert parse_model_command("lora a.gguf").scale == 1.0
    for bad in ("lora", "lora a.gguf big", "lora a.gguf 9", "lora main a b c"):
        with pytest.raises(ModelCommandError):
            parse_model_command(bad)


def test_slot_lora_config_is_validated() -> None:
    cfg = parse_config('[local.main]\nlora = "~/a.gguf"\nlora_scale = 0.75\n')
    assert cfg.local.main.lora == "~/a.gguf" and cfg.local.main.lora_scale == 0.75
    with pytest.raises(ConfigError, match="lora_scale"):
        parse_config("[local.main]\nlora_scale = 12\n")


# --- the real model ------------------------------------------------------------------------------

def _output_adapter(path: Path, model_path: Path) -> Path:
    """A rank-1 adapter on the output projection: logits(s) = logits(0) + s * (b . (a . h))."""
    from app.core.models.gguf_meta import read_gguf

    shapes = {t.name: t.shape for t in read_gguf(model_path).tensors}
    n_in, n_out = shapes["output.weight"]
    a = [0.02 * ((i % 7) - 3) for i in range(n_in)]
    b = [0.5 * ((j % 11) - 5) / 5 for j in range(n_out)]
    return write_lora_adapter(path, {"output.weight": (a, b, n_in, n_out)})


def _logits(provider: object, text: str) -> list[float]:
    """The next-token logits after ``text`` (the model's own last-token output row)."""
    import llama_cpp

    llama = provider._llama  # type: ignore[attr-defined]
    tokens = llama.tokenize(text.encode(), add_bos=False, special=True)
    llama.reset()
    llama.eval(tokens)
    row = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, -1)
    return [float(row[i]) for i in range(llama.n_vocab())]


@pytest.mark.model
async def test_an_adapter_changes_the_logits_with_its_scale_and_switches_at_runtime(
        tmp_path: Path, model_path: Path) -> None:
    from app.core.providers.llama_inprocess import LlamaInProcessProvider

    adapter = _output_adapter(tmp_path / "tiny-lora.gguf", model_path)
    assert check_adapter(adapter, model_path).tensors == 1
    provider = LlamaInProcessProvider(model_path, n_ctx=256, temperature=0.0, seed=1)
    await provider.load()
    try:
        prompt = "The capital of France is"
        base = _logits(provider, prompt)
        assert _logits(provider, prompt) == base  # deterministic without an adapter
        await provider.set_lora(adapter, 1.0)
        one = _logits(provider, prompt)
        await provider.set_lora(adapter, 2.0)
        two = _logits(provider, prompt)
        d1 = [x - y for x, y in zip(one, base, strict=True)]
        d2 = [x - y for x, y in zip(two, base, strict=True)]
        assert max(abs(d) for d in d1) > 0.1  # the adapter does something
        # On the output projection the change is linear in the scale.
        worst = max(abs(y - 2 * x) for x, y in zip(d1, d2, strict=True))
        assert worst < 0.05 * max(abs(d) for d in d2)
        await provider.set_lora(None)
        assert max(abs(x - y) for x, y in zip(_logits(provider, prompt), base, strict=True)) < 1e-3
    finally:
        await provider.aclose()
    # Given at construction, the adapter is applied when the model loads.
    loaded = LlamaInProcessProvider(model_path, n_ctx=256, temperature=0.0, seed=1,
                                    lora_path=adapter, lora_scale=1.0)
    await loaded.load()
    try:
        again = _logits(loaded, prompt)
        assert max(abs(x - y) for x, y in zip(again, one, strict=True)) < 1e-2
    finally:
        await loaded.aclose()
