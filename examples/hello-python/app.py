"""A tiny service: answers one HTTP request per run when given --serve, or
prints its greeting. Stands in for a real service in kiln's demo."""
import json
import platform
import sys


def greeting() -> dict:
    return {"service": "hello-python", "python": platform.python_version(), "ok": True}


if __name__ == "__main__":
    json.dump(greeting(), sys.stdout)
    sys.stdout.write("\n")
