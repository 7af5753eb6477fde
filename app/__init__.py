"""Nanobot: a local-first AI agent in a full-screen terminal."""

__version__ = "0.1.0"
