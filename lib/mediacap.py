"""A size cap on the media folder (STUDIO_MAX_MEDIA_GB): a hosted demo's visitors would otherwise fill
the server's disk with local copies of their videos.

Past the cap, the local copies of the oldest finished jobs are removed, a whole job at a time, until
the folder is under it again. Each removed result loses its "file" and gets `"evicted": True` (written
through the store, so every page and replica sees it), and its card says so (EVICTED_NOTE). Files of
jobs still downloading are never touched. Safe to run from several processes at once: removing a file
twice is harmless and each job's write is conditional on its revision.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .store import JobStore

log = logging.getLogger("studio.mediacap")

EVICTED_NOTE = "The local copy was removed to keep the media folder under its cap."


def folder_bytes(media_dir: Path) -> int:
    """Total size of the files in the media folder (the studio writes no subfolders)."""
    total = 0
    try:
        with os.scandir(media_dir) as entries:
            for entry in entries:
                try:
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:  # removed meanwhile
                    continue
    except FileNotFoundError:
        return 0
    return total


def enforce(store: JobStore, media_dir: Path, max_bytes: int) -> list[str]:
    """Remove the oldest finished jobs' local copies until the folder is at most `max_bytes`; the
    taskUUIDs whose copies were removed. Cheap when under the cap (one directory listing)."""
    media_dir = Path(media_dir)
    total = folder_bytes(media_dir)
    if max_bytes <= 0 or total <= max_bytes:
        return []
    evicted = []
    for row in store.finished_media():
        if total <= max_bytes:
            break
        freed = _evict(store, media_dir, row["task_uuid"])
        if freed is not None:
            total -= freed
            evicted.append(row["task_uuid"])
    if total > max_bytes:
        log.warning("media folder is still over its cap: the rest belongs to jobs not finished yet")
    return evicted


def _evict(store: JobStore, media_dir: Path, task_uuid: str, tries: int = 3) -> int | None:
    """Mark one job's results evicted, then delete their files; the bytes freed, None if nothing."""
    for _ in range(tries):
        job = store.get(task_uuid)
        if job is None or job.pending:
            return None
        results, files = [], []
        for result in job.results:
            result = dict(result)
            if result.get("file"):
                files.append(result.pop("file"))
                result["evicted"] = True
                if result.get("poster"):
                    files.append(result.pop("poster"))
            results.append(result)
        if not files:
            return None
        # Marked first: a card never points at a file that is gone without saying why.
        if store.write(job, "note", results=results):
            freed = 0
            for name in files:
                path = media_dir / Path(name).name
                try:
                    freed += path.stat().st_size
                    path.unlink()
                except FileNotFoundError:
                    continue
            return freed
    return None
