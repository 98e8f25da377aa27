"""The engine: no Qt import anywhere below here, so the CLI, tests and notebooks can use it."""
