"""Demo mode: with no API key, the app runs against the bundled simulator on a free loopback port.
Nothing leaves the machine.

Processes that share a data folder must never poll each other's simulators: each takes a numbered
slot (an exclusive file lock), runs its simulator on that slot's folder and files its jobs under that
slot's label. A restarted process takes the free slot again and resumes its jobs from the simulator's
journal; slot 0 keeps the label of the first release, so earlier demo jobs keep working.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .simulator.server import Simulator

# Not a secret: the simulator accepts any non-empty key. Jobs made in demo mode are filed under it.
DEMO_KEY = "demo-mode-no-key"
DEMO_LABEL = "simulator://local"
MAX_SLOTS = 64


class DemoBackend:
    def __init__(self, data_dir: Path, latency: float = 2.0):
        self.data_dir = Path(data_dir)
        self.latency = latency
        self.slot: int | None = None
        self._lock_fd: int | None = None
        self.simulator: Simulator | None = None

    def __repr__(self) -> str:
        return f"DemoBackend(slot={self.slot})"

    @property
    def label(self) -> str:
        """The API URL the demo's jobs are filed under (stable across restarts, unlike the port)."""
        return DEMO_LABEL if not self.slot else f"{DEMO_LABEL}/{self.slot}"

    @property
    def url(self) -> str | None:
        return self.simulator.url if self.simulator else None

    def _take_slot(self) -> int:
        folder = self.data_dir / "simulator-slots"
        folder.mkdir(parents=True, exist_ok=True)
        for slot in range(MAX_SLOTS):
            fd = os.open(folder / f"slot-{slot}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self._lock_fd = fd
            return slot
        raise RuntimeError(f"more than {MAX_SLOTS} demo processes share {self.data_dir}")

    def start(self) -> "DemoBackend":
        if self.simulator is None:
            self.slot = self._take_slot()
            media = self.data_dir / ("simulator" if self.slot == 0 else f"simulator-{self.slot}")
            # The app may be a hosted demo: its simulator never delivers into the server's own network,
            # and nobody may switch its faults on.
            self.simulator = Simulator(latency=self.latency, media_dir=media, deliver_to_private=False,
                                       control_endpoints=False).start()
        return self

    def stop(self) -> None:
        if self.simulator:
            self.simulator.stop()
            self.simulator = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
