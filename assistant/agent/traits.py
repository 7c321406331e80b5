"""What a tool is, for the trust policy: whether calling it changes something, whether its output can
carry someone else's words, and whether the person must always be asked.

Each tool declares its traits in one place (a `traits` attribute); `traits_of` reads them, and gives
the cautious default for a tool that declares none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Traits:
    """`effect`: the call changes something outside the turn (a device, a file, a message sent).
    `untrusted_output`: what it returns may be written by someone other than the owner.
    `always_ask`: the person approves every call, whatever the turn has seen.
    `reaches_out`: its arguments leave this machine (a search query, a remote server's request)."""

    effect: bool
    untrusted_output: bool
    always_ask: bool = False
    reaches_out: bool = False


# A tool that says nothing about itself is treated as one that may do anything.
UNKNOWN = Traits(effect=True, untrusted_output=True)
SEARCH = Traits(effect=False, untrusted_output=True, reaches_out=True)


def traits_of(tool: object) -> Traits:
    """The tool's declared traits, or UNKNOWN."""
    traits = getattr(tool, "traits", None)
    return traits if isinstance(traits, Traits) else UNKNOWN
