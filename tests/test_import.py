"""``import nocturna`` stays light."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["astropy", "astropy.coordinates", "fastapi", "starlette", "sqlalchemy", "uvicorn",
         "pydantic", "typer", "ruamel"]


def test_import_does_not_pull_in_heavy_modules():
    code = ("import sys, nocturna, nocturna.core; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.strip()
    assert out == "[]"

