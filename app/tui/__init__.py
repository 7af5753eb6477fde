"""The Textual app: the App, the bridge from core events, prompt flow, registries, screens."""
