"""Which tools one request offers. Every tool spec costs prompt characters a small model on a CPU
reads on each turn, so a request carries the core tools, then the kinds the conversation has asked
for (by its words, or through `more_tools`), then whatever else fits under the limit. The choice
changes only when a kind is asked for, so the prompt stays the same from turn to turn and Ollama's
cache holds."""

from __future__ import annotations

import functools
import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.agent import specjson
from assistant.agent.tools import Tool, ToolRegistry, spec_of

MORE_TOOLS = "more_tools"
CORE = ("time", "jobs", "memory")
# Built-in tools by kind; a tool outside this table has its own `kind` attribute, or is a kind alone.
KINDS: Mapping[str, str] = {
    "get_time": "time",
    "set_timezone": "time",
    "schedule_reminder": "jobs",
    "schedule_task": "jobs",
    "list_jobs": "jobs",
    "cancel_job": "jobs",
    "pause_job": "job-changes",
    "resume_job": "job-changes",
    "remember": "memory",
    "recall": "facts",
    "forget": "facts",
    "delegate": "team",
    "web_search": "search",
    MORE_TOOLS: "more",
}
SUMMARIES: Mapping[str, str] = {
    "job-changes": "pause or resume reminders and tasks",
    "facts": "search or forget the facts kept about the person",
    "team": "hand parts of a big task to helpers",
    "search": "search the web",
}
KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "job-changes": ("pause", "resume", "stop", "restart", "hold"),
    "facts": ("forget", "remember", "know", "recall"),
    "team": ("research", "compare", "draft", "plan", "helpers"),
    "search": ("search", "look up", "google", "web", "online", "news", "latest", "internet"),
}
ORDER = ("job-changes", "facts", "search", "team")
COMMON = frozenset({"list", "with", "from", "tool", "tools", "item", "items", "data", "info", "that", "this"})
MAX_ACTIVE = 8
MAX_NAMED = 16
MAX_GROUPED = 16
_WORD = re.compile(r"[a-z0-9]+")


def kind_of(tool: Tool) -> str:
    declared = getattr(tool, "kind", None)
    return KINDS.get(tool.name) or (declared if isinstance(declared, str) else tool.name)


def spec_chars(spec: Mapping[str, Any]) -> int:
    """What one spec costs in a request: its JSON, as the client sends it."""
    return len(json.dumps(spec))


def tool_chars(tool: Tool) -> int:
    """`spec_chars` of the tool's spec (kept with the spec, see `tools.spec_of` and `specjson`)."""
    return specjson.size(spec_of(tool))


def words(texts: Iterable[str]) -> set[str]:
    return {w for text in texts for w in _WORD.findall(text.lower())}


def mentions(said: set[str], keywords: Iterable[str]) -> bool:
    """Whether the words hold a keyword: whole, or sharing a stem of 4+ letters (remind, reminders)."""
    for keyword in keywords:
        parts = _keyword_words(keyword)
        if len(parts) > 1 and all(p in said for p in parts):
            return True
        if len(parts) == 1 and any(_stem_match(parts[0], word) for word in said):
            return True
    return False


@functools.lru_cache(maxsize=4096)
def _keyword_words(keyword: str) -> tuple[str, ...]:
    """A keyword's words: every turn looks for every kind's keywords, and they rarely change."""
    return tuple(_WORD.findall(keyword.lower()))


def _stem_match(keyword: str, word: str) -> bool:
    short, long = (keyword, word) if len(keyword) <= len(word) else (word, keyword)
    return short == long or (len(short) >= 4 and long.startswith(short))


@dataclass
class Kind:
    name: str
    tools: list[Tool]
    summary: str
    keywords: tuple[str, ...]


@dataclass
class Offer:
    """The choice of tools per chat. `describe` adds a kind's summary and keywords (skills, MCP
    servers); `before` runs before each choice (an MCP service re-checking approvals)."""

    max_chars: int = 4800
    summaries: dict[str, str] = field(default_factory=lambda: dict(SUMMARIES))
    keywords: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(KEYWORDS))
    before: list[Callable[[], None]] = field(default_factory=list)
    _active: dict[int, OrderedDict[str, None]] = field(default_factory=dict)
    _named: dict[int, OrderedDict[str, None]] = field(default_factory=dict)
    # The kinds of the registries seen lately, by their tools and `_version` (see `kinds`).
    _grouped: OrderedDict[tuple[Any, ...], dict[str, Kind]] = field(default_factory=OrderedDict)
    _version: int = 0

    def describe(self, kind: str, summary: str, keywords: Sequence[str] = ()) -> None:
        self.summaries[kind] = summary
        self.keywords[kind] = tuple(keywords)
        self._version += 1

    def activate(self, chat_id: int, kind: str, tool: str | None = None) -> None:
        """Offer `kind` to this chat from now on, ahead of the kinds asked for before it; with `tool`,
        that tool first when the kind is too big to come whole."""
        _front(self._active.setdefault(chat_id, OrderedDict()), kind, MAX_ACTIVE)
        if tool is not None:
            _front(self._named.setdefault(chat_id, OrderedDict()), tool, MAX_NAMED)

    def kinds(self, registry: ToolRegistry) -> dict[str, Kind]:
        """The registry's tools by kind, never to be changed by the caller: every request asks, so
        the answer is kept while the tools, their descriptions and kinds, and the summaries and
        keywords (changed through `describe`) stay the same. The kept kinds hold their tools, so
        no other tool can have a kept tool's id."""
        found_tools = (registry.get(name) for name in registry.names())
        tools = [(tool, kind_of(tool)) for tool in found_tools if tool is not None]
        key = (self._version, *((id(tool), tool.description, kind) for tool, kind in tools))
        found = self._grouped.pop(key, None) or self._group(tools)
        self._grouped[key] = found
        while len(self._grouped) > MAX_GROUPED:
            self._grouped.popitem(last=False)
        return found

    def _group(self, tools: list[tuple[Tool, str]]) -> dict[str, Kind]:
        grouped: dict[str, Kind] = {}
        for tool, kind in tools:
            if tool.name == MORE_TOOLS:
                continue
            entry = grouped.setdefault(kind, Kind(kind, [], self.summaries.get(kind, ""), ()))
            entry.tools.append(tool)
        for entry in grouped.values():
            named = tuple(sorted({p for tool in entry.tools for p in _parts(tool.name)}))
            entry.keywords = (*self.keywords.get(entry.name, ()), *named, entry.name)
            entry.summary = entry.summary or _summary(entry)
        return grouped

    def specs(self, registry: ToolRegistry, chat_id: int, texts: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The specs for this chat's next request, in name order; `texts` (the person's new words)
        may ask for a kind."""
        for hook in self.before:
            hook()
        kinds = self.kinds(registry)
        said = words(texts)
        for name in sorted(kinds):
            if name in CORE or not mentions(said, kinds[name].keywords):
                continue
            self.activate(chat_id, name)
            for tool in kinds[name].tools:
                if mentions(said, _parts(tool.name)):
                    self.activate(chat_id, name, tool.name)
        named = list(self._named.get(chat_id, ()))
        chosen, left = self._choose(kinds, list(self._active.get(chat_id, ())), named)
        specs = [spec for tool in chosen for spec in ToolRegistry([tool]).specs()]
        if left and MORE_TOOLS in registry:
            specs.append(more_spec({k: kinds[k].summary for k in left}))
        return sorted(specs, key=lambda s: str(s["function"]["name"]))

    def _choose(
        self, kinds: Mapping[str, Kind], active: list[str], named: list[str]
    ) -> tuple[list[Tool], list[str]]:
        """Core kinds, then the tools the chat asked for by name, then its asked-for kinds (tool by
        tool if a whole kind is too big), then the rest whole, while they fit; and the kinds left out."""
        others = sorted((k for k in kinds if k not in CORE and k not in active), key=_rank)
        reserve = spec_chars(more_spec({k: kinds[k].summary for k in kinds if k not in CORE}))
        chooser = _Chooser(self.max_chars - reserve)
        for name in CORE:
            chooser.whole(kinds.get(name))
        by_name = {tool.name: tool for kind in kinds.values() for tool in kind.tools}
        for tool_name in named:
            if tool_name in by_name and kind_of(by_name[tool_name]) in active:
                chooser.one(by_name[tool_name])
        for name in active:
            if not chooser.whole(kinds.get(name)):
                for tool in kinds[name].tools:
                    chooser.one(tool)
        for name in others:
            chooser.whole(kinds[name])
        left = [name for name, kind in kinds.items() if not all(t in chooser.chosen for t in kind.tools)]
        return chooser.chosen, left


@dataclass
class _Chooser:
    """Tools taken while they fit in `room` characters."""

    room: int
    chosen: list[Tool] = field(default_factory=list)

    def one(self, tool: Tool) -> bool:
        if tool in self.chosen:
            return True
        cost = tool_chars(tool)
        if cost > self.room:
            return False
        self.chosen.append(tool)
        self.room -= cost
        return True

    def whole(self, kind: Kind | None) -> bool:
        """All of the kind's tools, or none of them."""
        if kind is None:
            return True
        rest = [tool for tool in kind.tools if tool not in self.chosen]
        if sum(tool_chars(tool) for tool in rest) > self.room:
            return False
        return all(self.one(tool) for tool in rest)


@functools.lru_cache(maxsize=4096)
def _parts(name: str) -> tuple[str, ...]:
    """The words of a tool's own name that can ask for it: `home__lights_on` gives ("lights",)."""
    own = name.lower().split("__")[-1]
    return tuple(p for p in re.split(r"[_.\-]+", own) if len(p) >= 4 and p not in COMMON)


def _front(entries: OrderedDict[str, None], key: str, limit: int) -> None:
    entries[key] = None
    entries.move_to_end(key, last=False)
    while len(entries) > limit:
        entries.popitem()


def _rank(kind: str) -> tuple[int, str]:
    return (ORDER.index(kind), kind) if kind in ORDER else (len(ORDER), kind)


def _summary(kind: Kind) -> str:
    """A kind's line in `more_tools`: a lone tool's first sentence, or the names of its tools."""
    if len(kind.tools) == 1:
        first = " ".join(kind.tools[0].description.split()).split(". ")[0].rstrip(".")
        return first if len(first) <= 60 else first[:59].rsplit(" ", 1)[0] + "…"
    names = ", ".join(tool.name.split("__")[-1] for tool in kind.tools[:6])
    return f"tools: {names}" + (", …" if len(kind.tools) > 6 else "")


def more_spec(left: Mapping[str, str]) -> dict[str, Any]:
    """The `more_tools` spec, naming the kinds this request does not carry."""
    lines = "; ".join(f"{name} ({summary})" for name, summary in sorted(left.items()))
    return {
        "type": "function",
        "function": {
            "name": MORE_TOOLS,
            "description": f"Get more tools for this chat. Kinds: {lines}.",
            "parameters": {
                "type": "object",
                "properties": {"kind": {"type": "string", "enum": sorted(left)}},
                "required": ["kind"],
            },
        },
    }
