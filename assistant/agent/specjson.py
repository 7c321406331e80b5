"""The JSON of tool specs, written once per spec: a turn weighs its request's specs several times
(the history's budget, the request's size, the token counter) before it sends them, and each of
those was a fresh `json.dumps` of every spec. A spec is never changed once made (a tool keeps its
spec while its description and parameters stay the same, see `tools.spec_of`), so its text is kept
by identity, with the spec itself held so that its id cannot be taken by another object."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# Specs whose text is kept: a few turns' worth.
KEPT = 256

_known: dict[int, tuple[Mapping[str, Any], str, int]] = {}


def _text(spec: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, int]:
    """The spec, its text as sent, and the length of `json.dumps(spec)` (what estimates count)."""
    found = _known.get(id(spec))  # held by its entry, the spec keeps its id to itself
    if found is not None:
        return found
    found = (spec, json.dumps(spec, ensure_ascii=False, separators=(",", ":")), len(json.dumps(spec)))
    if len(_known) >= KEPT:
        del _known[next(iter(_known))]
    _known[id(spec)] = found
    return found


def size(spec: Mapping[str, Any]) -> int:
    """`len(json.dumps(spec))`."""
    return _text(spec)[2]


def chars(specs: Sequence[Mapping[str, Any]]) -> int:
    """`len(json.dumps(list(specs)))`, 0 for no specs: the brackets and ", " between the specs."""
    if not specs:
        return 0
    return sum(size(spec) for spec in specs) + 2 * len(specs)


def compact(specs: Sequence[Mapping[str, Any]]) -> str:
    """`json.dumps(list(specs), ensure_ascii=False, separators=(",", ":"))`."""
    return "[" + ",".join(_text(spec)[1] for spec in specs) + "]"
