"""The running unit's HTTP API: status, history, frames, live events and commands.

``nocturna run`` serves it (FastAPI on uvicorn) in a thread of its own, on its own
real-time event loop, beside the night's loop: it reads the unit through the status
board, storage and an event bridge, and sends commands to the night's loop.
Modules: :mod:`.auth` (tokens, roles), :mod:`.link` (what the API knows of the
unit), :mod:`.app` (the app factory), :mod:`.reads`, :mod:`.frames`,
:mod:`.commands`, :mod:`.events` (Server-Sent Events), :mod:`.server` (the thread),
:mod:`.client` (the CLI's client).
"""
