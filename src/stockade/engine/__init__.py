"""The engine: rule selection, exceptions, the evaluation loop and finding construction (pure)."""
