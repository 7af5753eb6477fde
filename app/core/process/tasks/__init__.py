"""Built-in tasks for the step engine. Each module registers itself with ``register_task``."""
