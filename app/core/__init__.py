"""The agent core: providers, the turn loop, tools and persistence.

Nothing under this package may import Textual or Rich (tests/test_import_hygiene.py proves it), so the
headless CLI, the TUI and the tests all drive the same code.
"""
