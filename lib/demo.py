"""Demo mode: with no API key, the app runs against the bundled simulator, started once per process
on a free loopback port. Nothing leaves the machine."""
from __future__ import annotations

import threading
from pathlib import Path

from .simulator.server import Simulator

# Not a secret: the simulator accepts any non-empty key. Jobs made in demo mode are filed under it.
DEMO_KEY = "demo-mode-no-key"
# A stable label for the simulator's jobs, whatever port it gets this time.
DEMO_API_URL = "simulator://local"

_simulator: Simulator | None = None
_lock = threading.Lock()


def ensure_simulator(data_dir: Path, latency: float = 2.0) -> Simulator:
    """The process's simulator, started on first use."""
    global _simulator
    with _lock:
        if _simulator is None:
            # The app may be a hosted demo: its simulator never delivers into the server's own network.
            _simulator = Simulator(latency=latency, media_dir=Path(data_dir) / "simulator",
                                   deliver_to_private=False).start()
        return _simulator


def running_simulator() -> Simulator | None:
    return _simulator
