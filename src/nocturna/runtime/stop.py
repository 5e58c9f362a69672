"""Stopping a run on request: SIGTERM, SIGINT and SIGHUP park, close and end the night.

A service manager (systemd, docker) stops a service with SIGTERM, a person with
Ctrl-C, a closed terminal sends SIGHUP. The first of any of them asks the state
machine to park and close, print the summary and end (a
:class:`~nocturna.states.machine.StopRequest`); a
second one forces the exit at once. Exit codes: 0 after SIGTERM or SIGHUP (a clean
stop), 130 after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator

from nocturna.states.machine import StopRequest

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
EXIT_CODES = {signal.SIGTERM: 0, signal.SIGHUP: 0, signal.SIGINT: 130}


def exit_code(request: StopRequest) -> int:
    """The process's exit code after ``request`` (0 when no signal asked)."""
    sig = request.source
    return EXIT_CODES.get(sig, 0) if isinstance(sig, signal.Signals) else 0


@contextlib.contextmanager
def stop_on_signals(request: StopRequest, loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Turn SIGTERM/SIGINT/SIGHUP into ``request``; a second signal exits at once."""

    def handle(sig: signal.Signals) -> None:
        if request.requested:
            log.error("%s again: forced exit without parking", sig.name)
            print(f"nocturna: {sig.name} again: forced exit (the unit may be left open)",
                  file=sys.stderr, flush=True)
            os._exit(128 + int(sig))
        log.warning("%s: parking and closing, then ending the run", sig.name)
        print(f"nocturna: {sig.name}: parking and closing, then ending the run "
              "(send it again to force the exit)", file=sys.stderr, flush=True)
        request.request(f"{sig.name} received", sig)

    installed = []
    for sig in STOP_SIGNALS:
        try:
            loop.add_signal_handler(sig, handle, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig in installed:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
