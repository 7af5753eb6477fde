"""In-process llama.cpp through llama-cpp-python.

Generation runs in a worker thread (the ctypes calls release the GIL, so the UI stays live). Chunks
are bridged into asyncio through ``call_soon_threadsafe``. Cancellation is checked after every chunk,
and an abort callback installed on the llama context also stops a long prompt evaluation between
graph nodes, so cancel is prompt even before the first token. The chat template is the GGUF's own.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.agent.cancel import CancelToken
from app.core.agent.messages import Message, new_call_id
from app.core.models.gguf import check_gguf
from app.core.models.quirks import ModelQuirks
from app.core.providers.base import (
    Capabilities,
    FinishChunk,
    ProviderError,
    ProviderEvent,
    ProviderRequest,
    ReasoningChunk,
    TextChunk,
    ToolCallChunk,
    UsageChunk,
)
from app.core.providers.grammar import ANSWER_ONLY_GBNF, tool_instructions, tool_or_text_gbnf
from app.core.wire.template_caps import TemplateProbeError, probe_template
from app.core.wire.think import ThinkSplitter
from app.core.wire.thread_repair import render_prompt
from app.core.wire.tool_calls import call_from_obj, loads_lenient

log = logging.getLogger(__name__)

_DONE = object()
_CANCELLED = object()
MIN_REPLY_TOKENS = 16


class _Raw:
    """A chunk of generated text as it left the model thread."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


BACKGROUND_NICE = 19


def lower_thread_priority() -> None:
    """Give the calling thread (and the compute threads it starts) the lowest CPU priority.

    On Linux a nice value belongs to a thread and threads created from it inherit it, so llama.cpp's
    worker threads for this generation run at that priority too. Elsewhere this does nothing.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):  # no per-thread priorities here: run as is
        log.debug("could not lower the priority of a background generation")

class LlamaInProcessProvider:
    """A GGUF model loaded into this process."""

    def __init__(self, model_path: str | Path, *, n_ctx: int = 8192, n_threads: int = 0,
                 n_gpu_layers: int = 0, temperature: float = 0.0, label: str = "",
                 grammar_tool_calls: bool = True, supports_thinking: bool = False,
                 tool_nudge: bool = False,
                 seed: int | None = None, name: str = "local", chat_template: str | None = None,
                 quirks: ModelQuirks | None = None, lora_path: str | Path | None = None,
                 lora_scale: float = 1.0) -> None:
        self.path = check_gguf(model_path)
        # A LoRA adapter applied on load and switchable at runtime (set_lora).
        self.lora_path: Path | None = Path(lora_path).expanduser() if lora_path else None
        self.lora_scale = lora_scale
        self._adapter: Any = None
        self.name = name
        self.model = label or self.path.stem
        self.n_ctx = n_ctx
        self.n_threads = n_threads or (os.cpu_count() or 2)
        self.n_gpu_layers = n_gpu_layers
        self.temperature = temperature
        self.seed = seed
        self.quirks = quirks or ModelQuirks(grammar_tool_calls=grammar_tool_calls,
                                            supports_thinking=supports_thinking,
                                            tool_nudge=tool_nudge)
        q = self.quirks
        self.capabilities = Capabilities(
            supports_tools=True, native_tool_calls=False, grammar_tool_calls=q.grammar_tool_calls,
            supports_thinking=q.supports_thinking, context_window=n_ctx, tool_nudge=q.tool_nudge,
            always_reasons=q.always_reasons, think_prefill=q.think_prefill,
            core_tools=q.core_tools, small=q.small)
        self._template_override = chat_template
        # How often the probed template still refused a thread and the strictest form was used.
        self.template_fallbacks = 0
        self._llama: Any = None
        self._formatter: Any = None
        self._load_lock = threading.Lock()
        self._gen_lock = threading.Lock()
        self._active_cancel: CancelToken | None = None
        self._abort_cb: Any = None
        self._grammar_cache: dict[tuple[str, ...], Any] = {}
        # Chunks the worker thread produced after the token was cancelled (at most one expected).
        self.chunks_after_cancel = 0
        # Background work (summaries): generate at the lowest CPU priority, so that on a small
        # machine the user's turn and the UI get the cores first.
        self.background = False
        self.last_thread: threading.Thread | None = None

    # --- loading -----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._llama is not None

    async def load(self) -> None:
        if self._llama is None:
            await asyncio.to_thread(self._load_sync)

    def _load_sync(self) -> None:
        with self._load_lock:
            if self._llama is not None:
                return
            import llama_cpp
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            llama = llama_cpp.Llama(
                model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.n_threads,
                n_batch=512, n_gpu_layers=self.n_gpu_layers, verbose=False,
                seed=self.seed if self.seed is not None else llama_cpp.LLAMA_DEFAULT_SEED)
            template = self._template_override or llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ProviderError(f"{self.path} has no chat template; it is not a chat model")
            eos_id, bos_id = llama.token_eos(), llama.token_bos()
            eos = llama._model.token_get_text(eos_id) if eos_id >= 0 else ""
            bos = llama._model.token_get_text(bos_id) if bos_id >= 0 else ""
            self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos,
                                                  stop_token_ids=[eos_id])
            try:
                caps = probe_template(lambda msgs: str(self._formatter(messages=msgs).prompt))
            except TemplateProbeError as exc:
                raise ProviderError(f"{self.path.name}: {exc}") from exc
            self.capabilities = replace(self.capabilities, template=caps)

            def abort(_data: ctypes.c_void_p) -> bool:
                tok = self._active_cancel
                return bool(tok is not None and tok.cancelled)

            self._abort_cb = llama_cpp.ggml_abort_callback(abort)
            llama_cpp.llama_set_abort_callback(llama._ctx.ctx, self._abort_cb, None)
            if self.lora_path is not None:
                self._apply_lora(llama, self.lora_path, self.lora_scale)
            self._llama = llama

    def _apply_lora(self, llama: Any, path: Path | None, scale: float) -> None:
        from app.core.models.lora import AdapterError, LoadedAdapter, check_adapter, clear_adapters

        if path is None:
            clear_adapters(llama._ctx.ctx)
            if self._adapter is not None:
                self._adapter.free()
            self._adapter = None
            return
        if self._adapter is None or self._adapter.path != path:
            try:
                check_adapter(path, self.path)
            except AdapterError as exc:
                raise ProviderError(str(exc)) from exc
            loaded = LoadedAdapter(llama._model.model, path)
            if self._adapter is not None:
                clear_adapters(llama._ctx.ctx)
                self._adapter.free()
            self._adapter = loaded
        self._adapter.apply(llama._ctx.ctx, scale)

    async def set_lora(self, path: str | Path | None, scale: float = 1.0) -> None:
        """Switch the adapter (None: none) or its scale on the loaded model, without reloading
        it; the prompt cache is dropped (it was computed with the old weights). Before the model
        is loaded this only records what to apply at load. Raises :class:`ProviderError`."""
        def switch() -> None:
            new = Path(path).expanduser() if path else None
            with self._gen_lock:
                if self._llama is not None:
                    self._apply_lora(self._llama, new, scale)
                    self._llama.reset()
                self.lora_path, self.lora_scale = new, scale

        await asyncio.to_thread(switch)

    # --- prompt ------------------------------------------------------------------------------

    @property
    def _tagged_calls(self) -> bool:
        """The model writes ``<tool_call>`` tags and its template renders tools and calls."""
        return self.quirks.tool_call_format == "tags" and self.capabilities.template.tool_calls

    def _messages(self, request: ProviderRequest) -> tuple[list[Message], list[Any] | None]:
        """Canonical messages plus the ``tools`` value handed to the template."""
        msgs = list(request.messages)
        if not request.tools:
            return msgs, None
        if self._tagged_calls:
            return msgs, [t.to_openai() for t in request.tools]
        instructions = tool_instructions(request.tools)
        if msgs and msgs[0].role == "system":
            msgs[0] = replace(msgs[0], content=f"{msgs[0].content}\n\n{instructions}")
        else:
            msgs.insert(0, Message(role="system", content=instructions))
        return msgs, None

    def render_prompt(self, request: ProviderRequest) -> str:
        """The exact prompt text the model sees: history repaired for the GGUF's own template,
        rendered by it, plus any assistant prefill."""
        if self._formatter is None:
            self._load_sync()
        msgs, tools = self._messages(request)

        def render(wire: list[dict[str, Any]]) -> str:
            out: str = self._formatter(messages=wire, tools=tools,
                                       enable_thinking=request.thinking).prompt
            return out

        try:
            prompt, fallback = render_prompt(render, msgs, self.capabilities.template,
                                             native_tools=self._tagged_calls)
        except Exception as exc:
            raise ProviderError(f"the chat template of {self.model} refused the conversation "
                                f"even in its strictest form: {exc}") from exc
        self.template_fallbacks += fallback
        return prompt + request.prefill

    def _starts_in_reasoning(self, request: ProviderRequest) -> bool:
        """Whether generated text begins inside a ``<think>`` block (opened by the template's
        generation prompt or by the prefill, and not closed by the prefill)."""
        pre = request.prefill
        if "<think>" in pre:
            return pre.rfind("<think>") > pre.rfind("</think>")
        return self.capabilities.template.generation_opens_think and "</think>" not in pre

    def count_tokens(self, text: str) -> int:
        if self._llama is None:
            self._load_sync()
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _grammar(self, request: ProviderRequest) -> Any:
        if not self.capabilities.grammar_tool_calls:
            return None
        if request.answer_only:
            key: tuple[str, ...] = ("<answer-only>",)
            text = ANSWER_ONLY_GBNF
        elif request.tools:
            tools = request.callable_tools()
            key = tuple(json.dumps(t.parameters, sort_keys=True) + t.name for t in tools)
            text = tool_or_text_gbnf(tools) if key not in self._grammar_cache else ""
        else:
            return None
        if key not in self._grammar_cache:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammar_cache[key] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammar_cache[key]

    def _custom_grammar(self, text: str) -> Any:
        key = ("<custom>", text)
        if key not in self._grammar_cache:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammar_cache[key] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammar_cache[key]

    # --- generation --------------------------------------------------------------------------

    def _generate(self, request: ProviderRequest, cancel: CancelToken,
                  put: Callable[[object], None]) -> None:
        if self.background:
            lower_thread_priority()
        try:
            with self._gen_lock:
                self._active_cancel = cancel
                try:
                    self._generate_locked(request, cancel, put)
                finally:
                    self._active_cancel = None
        except Exception as exc:  # delivered to the awaiting coroutine
            put(exc)
        finally:
            put(_DONE)

    def _generate_locked(self, request: ProviderRequest, cancel: CancelToken,
                         put: Callable[[object], None]) -> None:
        if cancel.cancelled:
            return
        llama = self._llama
        prompt = self.render_prompt(request)
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        room = self.n_ctx - len(tokens)
        max_tokens = min(request.max_tokens or room, room)
        if room < MIN_REPLY_TOKENS:
            raise ProviderError(
                f"the prompt ({len(tokens)} tokens) does not fit the context window "
                f"({self.n_ctx} tokens) of {self.model}")
        temperature = self.temperature if request.temperature is None else request.temperature
        # A caller's own GBNF (extra["grammar"]) constrains the whole reply, e.g. a process step's
        # terse format; extra["seed"] makes a sample reproducible (a resumed step redraws it).
        custom = str(request.extra.get("grammar") or "")
        grammar = self._custom_grammar(custom) if custom else self._grammar(request)
        seed = request.extra.get("seed")
        produced = 0
        if grammar is not None and not custom:
            # Grammar sampling checks the whole vocabulary every token (about 2x slower here), but
            # only the first token decides between a tool call and a text answer: sample that one
            # under the grammar and let a text answer continue unconstrained.
            first = self._first_token(tokens, grammar, temperature)
            if first is None:
                put(UsageChunk(prompt_tokens=len(tokens), completion_tokens=0))
                put(FinishChunk("stop"))
                return
            first_text = self._piece(first)
            if first_text is not None and not first_text.lstrip().startswith("{"):
                put(_Raw(first_text))
                produced = 1
                tokens = [*tokens, first]
                max_tokens -= 1
                grammar = None
        completion = llama.create_completion(
            prompt=tokens, max_tokens=max_tokens, temperature=temperature, top_p=self._top_p,
            repeat_penalty=self._repeat_penalty, stream=True, stop=[], grammar=grammar,
            seed=seed if isinstance(seed, int) else None)
        prompt_len = len(tokens) - produced
        reason = "stop"
        try:
            for chunk in completion:
                choice = chunk["choices"][0]
                if choice.get("text"):
                    produced += 1
                    if cancel.cancelled:
                        self.chunks_after_cancel += 1
                    put(_Raw(choice["text"]))
                if choice.get("finish_reason"):
                    reason = choice["finish_reason"]
                if cancel.cancelled:
                    reason = "cancelled"
                    break
        except RuntimeError as exc:
            if not cancel.cancelled:
                raise ProviderError(f"llama.cpp failed: {exc}") from exc
            reason = "cancelled"
            llama.reset()  # the aborted decode left the KV cache unknown; re-evaluate next time
        finally:
            completion.close()
        put(UsageChunk(prompt_tokens=prompt_len, completion_tokens=produced))
        put(FinishChunk(reason))

    def _first_token(self, tokens: list[int], grammar: Any, temperature: float) -> int | None:
        gen = self._llama.generate(tokens, temp=temperature, top_p=self._top_p,
                                   repeat_penalty=self._repeat_penalty, grammar=grammar)
        try:
            token = int(next(gen))
        finally:
            gen.close()
        import llama_cpp

        return None if llama_cpp.llama_vocab_is_eog(self._llama._model.vocab, token) else token

    @property
    def _top_p(self) -> float:
        return self.quirks.sampling.get("top_p", 0.9)

    @property
    def _repeat_penalty(self) -> float:
        return self.quirks.sampling.get("repeat_penalty", 1.05)

    def _piece(self, token: int) -> str | None:
        """The text of one token, or None when it is part of a multi-byte character."""
        try:
            text: str = self._llama.detokenize([token]).decode("utf-8")
            return text
        except UnicodeDecodeError:
            return None

    async def stream(self, request: ProviderRequest,
                     cancel: CancelToken) -> AsyncIterator[ProviderEvent]:
        await self.load()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        unsubscribe = cancel.on_cancel(lambda: put(_CANCELLED))
        thread = threading.Thread(target=self._generate, args=(request, cancel, put),
                                  name="llama-generate", daemon=True)
        thread.start()
        self.last_thread = thread
        grammar = self._grammar(request) is not None and not request.answer_only
        splitter = ThinkSplitter(start_inside=self._starts_in_reasoning(request))
        mode = "undecided" if grammar else "text"  # grammar: "{" first means a tool call
        held = ""
        try:
            while True:
                item = await queue.get()
                if item is _DONE or item is _CANCELLED:
                    break
                if isinstance(item, Exception):
                    raise item
                if isinstance(item, UsageChunk | FinishChunk):
                    if held:  # the reply is over: a held call is complete (or was not a call)
                        for ev in self._finish_held(held, mode):
                            yield ev
                        held = ""
                    yield item
                    continue
                if not isinstance(item, _Raw):
                    continue
                visible, reasoning = splitter.feed(item.text)
                if reasoning:
                    yield ReasoningChunk(reasoning)
                if not visible:
                    continue
                if mode == "undecided":
                    held += visible
                    stripped = held.lstrip()
                    if not stripped:
                        continue
                    mode = "call" if stripped.startswith("{") else "text"
                    if mode == "text":
                        yield TextChunk(held)
                        held = ""
                elif mode == "call":
                    held += visible
                else:
                    yield TextChunk(visible)
            rest, reasoning = splitter.flush()
            if reasoning:
                yield ReasoningChunk(reasoning)
            if rest and mode == "text":
                yield TextChunk(rest)
        finally:
            unsubscribe()

    def _finish_held(self, held: str, mode: str) -> list[ProviderEvent]:
        if mode == "undecided":
            return [TextChunk(held)]
        try:
            call = call_from_obj(loads_lenient(held))
        except ValueError:
            call = None
        if call is None:
            return [TextChunk(held)]  # the loop reports the malformed call to the model
        return [ToolCallChunk(replace(call, id=new_call_id()))]

    async def aclose(self) -> None:
        llama, self._llama = self._llama, None
        if llama is not None:
            def close() -> None:
                # A stream ends as soon as its token is cancelled, while its generation thread may
                # still be inside llama.cpp until the abort callback stops it: freeing the model
                # under it crashed the program (a process run stopped with Ctrl+C).
                with self._gen_lock:
                    llama.close()

            await asyncio.to_thread(close)
