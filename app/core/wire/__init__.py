"""Canonical history to and from what a model reads and writes: templates, tool calls."""
