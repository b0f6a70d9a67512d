"""Question in, cited answer out: the Python API (`ask`), the `latent` CLI and the web page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.answer import ask
    from assistant.records import Answer, Citation

__all__ = ["Answer", "Citation", "ask"]


def __getattr__(name: str) -> Any:
    if name == "ask":
        from assistant.answer import ask

        return ask
    if name in ("Answer", "Citation"):
        from assistant import records

        return getattr(records, name)
    raise AttributeError(name)
