"""The one way text made from what a person sent enters a prompt: as content, never as orders.

Document text and image descriptions pass through `untrusted_text`, which is the trust rules'
`as_data`: cleaned of hidden characters and wrapped as data. A message carrying them (or a photo
the model sees itself, which can hold written instructions too) is marked untrusted, so effect
tools in its turn wait for the person. A voice transcript is the person's own words and is not.
"""

from __future__ import annotations

from assistant.access.content import as_data
from assistant.types import UNTRUSTED_META as UNTRUSTED

__all__ = ["UNTRUSTED", "untrusted_text"]


def untrusted_text(text: str, source: str) -> str:
    """`text` cleaned and wrapped as data from `source` (a document's name, "description of the photo")."""
    return as_data(text.strip(), source)
