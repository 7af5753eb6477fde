"""Models: the embedded default, the catalog, hardware and the slot manager."""
