"""python -m lib.simulator --port 8787 [--api-key K] [--latency S] [--failure-rate P] ...

Every limit of limits.Limits is a flag too (--max-body-bytes, --max-pending-tasks, ...); see --help."""
from __future__ import annotations

import argparse
import logging
import signal
import threading

from dataclasses import fields

from .faults import Faults, FaultRates
from .limits import Limits
from .server import Simulator


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m lib.simulator", description="A local Runware-compatible API.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    p.add_argument("--api-key", default=None, help="accept only this key (default: any non-empty key)")
    p.add_argument("--latency", type=float, default=2.0, help="seconds a task stays processing")
    p.add_argument("--failure-rate", type=float, default=0.0, help="share of tasks that end in timeoutProvider")
    p.add_argument("--http-429-rate", type=float, default=0.0)
    p.add_argument("--http-5xx-rate", type=float, default=0.0)
    p.add_argument("--slow-rate", type=float, default=0.0, help="share of answers delayed by --slow-seconds")
    p.add_argument("--slow-seconds", type=float, default=5.0)
    p.add_argument("--truncate-rate", type=float, default=0.0, help="share of answers whose JSON is cut short")
    p.add_argument("--media-dir", default=None, help="where rendered videos go (default: a temp dir)")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--no-control-endpoints", action="store_true",
                   help="turn off POST /_sim/faults (for a simulator others can reach)")
    p.add_argument("--public-deliveries-only", action="store_true",
                   help="send webhooks and uploads to public addresses only")
    limits = p.add_argument_group("limits (defaults are safe for a shared demo)")
    for f in fields(Limits):
        limits.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                            metavar=type(f.default).__name__.upper(), help=f"default {f.default}")
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rates = FaultRates(task_failure=a.failure_rate, http_429=a.http_429_rate, http_5xx=a.http_5xx_rate,
                       slow=a.slow_rate, truncate=a.truncate_rate)
    sim = Simulator(host=a.host, port=a.port, api_key=a.api_key, latency=a.latency,
                    faults=Faults(rates, slow_seconds=a.slow_seconds), media_dir=a.media_dir,
                    control_endpoints=not a.no_control_endpoints, deliver_to_private=not a.public_deliveries_only,
                    limits=Limits(**{f.name: getattr(a, f.name) for f in fields(Limits)})).start()
    print(f"Runware simulator listening on {sim.url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
