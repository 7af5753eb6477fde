"""The RLM delegate: a model that reads large text through handles so the main model does not.

The text lives in variables (``output_0``, a volume); the delegate sees each variable's size and a
preview, works on it with micro-tools (slice, grep, length, summarize, scratch memory) one fresh
single-turn call per round, and hands back a short finding that quotes the evidence verbatim.
"""
