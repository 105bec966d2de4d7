"""Comparing 2 to 6 jobs side by side: which request parameters they share and which differ.

Tasks are flattened to dotted names (`providerSettings.google.generateAudio`, `frameImages.0.frame`), so
a difference deep inside a settings object is named exactly. The taskUUID is always different and says
nothing about the video, so it is left out. Inline media (data URIs, megabytes of base64) are compared by
their bytes but shown as a word ("image"); when they differ, each distinct one gets a letter ("image A",
"image B") so the reader can still tell which videos share a first frame.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MIN_JOBS, MAX_JOBS = 2, 6
IGNORED = frozenset({"taskUUID"})
NOT_SET = "not set"
SEPARATOR = " · "

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MISSING = object()


def flatten(task: dict) -> dict[str, object]:
    """A task as {dotted name: leaf value}, in the task's own order; lists are numbered from 0."""
    out: dict[str, object] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value:
            for i, inner in enumerate(value):
                walk(f"{prefix}.{i}", inner)
        else:
            out[prefix] = value

    for key, value in task.items():
        if key not in IGNORED:
            walk(str(key), value)
    return out


def media_kind(value) -> str | None:
    """"image", "video", "audio" (or "file") for an inline data URI; None for anything else."""
    if isinstance(value, str) and value.startswith("data:") and "," in value:
        major = value[5:].split("/", 1)[0].split(";", 1)[0].split(",", 1)[0].lower()
        return major if major in ("image", "video", "audio") else "file"
    return None


def display(value) -> str:
    """A parameter's value as a person reads it (JSON spelling for true/false/null)."""
    if value is _MISSING:
        return NOT_SET
    kind = media_kind(value)
    if kind:
        return kind
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return str(value)


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "…"


@dataclass(frozen=True)
class Comparison:
    shared: dict[str, str]  # name -> value, the same in every job
    differing: list[str]  # names whose values are not all the same, in the tasks' order
    values: list[dict[str, str]]  # per job, in the order given: name -> value, for the differing names

    def label(self, index: int, limit: int = 60) -> str:
        """What sets job `index` apart: "seed: 1 · width: 512"; each value cut to `limit` characters."""
        return SEPARATOR.join(f"{name}: {short(self.values[index][name], limit)}" for name in self.differing)


def compare(tasks: list[dict]) -> Comparison:
    """Which parameters `tasks` share and how each one differs. A parameter one task sets and another
    does not differs ("not set")."""
    flat = [flatten(t) for t in tasks]
    names: dict[str, None] = {}
    for f in flat:
        names.update(dict.fromkeys(f))
    shared, differing = {}, []
    for name in names:
        column = [f.get(name, _MISSING) for f in flat]
        if all(_same(v, column[0]) for v in column[1:]):
            shared[name] = display(column[0])
        else:
            differing.append(name)
    letters = _media_letters(flat, differing)
    values = [{name: _shown(f.get(name, _MISSING), letters) for name in differing} for f in flat]
    return Comparison(shared, differing, values)


def _same(a, b) -> bool:
    # True == 1 in Python; a switch turned on is not the number one.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _media_letters(flat: list[dict], differing: list[str]) -> dict[str, str]:
    """Each distinct inline media value among the differing parameters -> "A", "B", ... by first use."""
    letters: dict[str, str] = {}
    for name in differing:
        for f in flat:
            value = f.get(name)
            if media_kind(value) and value not in letters:
                letters[value] = _letter(len(letters))
    return letters


def _letter(n: int) -> str:
    return chr(ord("A") + n) if n < 26 else str(n + 1)


def _shown(value, letters: dict[str, str]) -> str:
    text = display(value)
    return f"{text} {letters[value]}" if media_kind(value) else text


# -- which jobs: the ?jobs= query parameter -----------------------------------------------------------

def parse_job_ids(text: str | None) -> list[str]:
    """The task UUIDs of a `?jobs=a,b,c` parameter: well-formed ones only, each once, in order, at most
    MAX_JOBS."""
    picked: list[str] = []
    for part in (text or "").split(","):
        uuid = part.strip().lower()
        if _UUID.match(uuid) and uuid not in picked:
            picked.append(uuid)
    return picked[:MAX_JOBS]


def jobs_param(task_uuids) -> str:
    """The `?jobs=` value that opens the compare view on these jobs (for links from other pages)."""
    return ",".join(task_uuids)
