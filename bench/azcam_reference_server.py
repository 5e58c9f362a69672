"""azcam's own command server, for the round-trip reference (run with azcam's Python).

Usage: python azcam_reference_server.py PORT — prints "ready" once listening, and runs
until its stdin closes. Only azcam's server and parameters tool are set up (no hardware
tools), which is enough for ``parameters.get_par logcommands``.
"""

import sys
import time

import azcam.server

import azcam

azcam.server.setup_server()
azcam.log = lambda *args, **kwargs: None  # quiet: the bench measures the protocol
azcam.db.cmdserver.port = int(sys.argv[1])
azcam.db.cmdserver.start()
time.sleep(0.3)
print("ready", flush=True)
sys.stdin.read()
