"""The ``nocturna`` command line (typer + rich)."""
