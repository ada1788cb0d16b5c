"""Greets by name; vendored so the build needs no package index."""

__version__ = "1.0.0"


def greet(name: str) -> str:
    return f"hello, {name.strip() or 'world'}"
