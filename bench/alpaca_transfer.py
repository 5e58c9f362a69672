"""Alpaca: a 6000×4000 16-bit ImageArray end to end, and property round trips per second.

Run: ``python bench/alpaca_transfer.py [--repeats N] [--seconds S]``

Both sides run in the same run, on this machine, over loopback, each server in its
own process:

* nocturna: ``nocturna alpaca serve --simulate`` with a 6000×4000 simulated camera,
  read by nocturna's own Alpaca client drivers (``nocturna.devices.alpaca``):
  ``AlpacaCamera.image()`` (ImageBytes, metadata included) and sequential
  ``AlpacaFocuser.state``-free property reads (one GET ``focuser/0/position`` each);
* reference: the ``alpaca-simulators`` package (FastAPI) with its camera set to
  6000×4000, read by the official ASCOM client ``alpyca``: ``Camera.ImageArrayRaw``
  (ImageBytes into a flat array, the fastest alpyca path) and ``Camera.ImageArray``,
  and sequential ``Focuser.Position`` reads.

Targets (issue 17): image ≤ 0.10 s end to end; ≥ 4,000 round trips/s. The exit code
is 0 whether or not they are met; non-zero only if the benchmark itself fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

WIDTH, HEIGHT = 6000, 4000
IMAGE_TARGET_S = 0.10
ROUND_TRIP_TARGET = 4000.0

SITE_YAML = f"""\
name: alpaca-bench
cameras:
  - name: cam0
    driver: sim
    width: {WIDTH}
    height: {HEIGHT}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s:g} s")


@contextlib.contextmanager
def running(command: list[str], port: int, env: dict[str, str] | None = None,
            ) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def rate(call: Callable[[], object], seconds: float) -> float:
    call()  # warm-up (connection set up)
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        call()
        count += 1
    return count / elapsed


# ------------------------------------------------------------------ nocturna
async def nocturna_figures(address: str, repeats: int, seconds: float) -> dict[str, object]:
    from nocturna.core.config.models import DeviceConfig
    from nocturna.devices.alpaca.camera import AlpacaCamera
    from nocturna.devices.alpaca.focuser import AlpacaFocuser

    def entry(name: str) -> DeviceConfig:
        return DeviceConfig(name=name, driver="alpaca", address=address, device_number=0)

    camera = AlpacaCamera.from_config(entry("cam"), timeout_s=60.0)
    focuser = AlpacaFocuser.from_config(entry("foc"))
    await camera.connect()
    await focuser.connect()
    try:
        await camera.start_exposure(0.1, False)
        await camera.wait_until_ready(0.1, timeout_s=300.0)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            image = await camera.image()
            times.append(time.perf_counter() - start)
        assert image.data.shape == (HEIGHT, WIDTH), image.data.shape
        await focuser.get_member("position")  # one GET focuser/0/position per call
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            await focuser.get_member("position")
            count += 1
        return {"image_s": times, "round_trips": count / elapsed}
    finally:
        await camera.disconnect()
        await focuser.disconnect()


def measure_nocturna(repeats: int, seconds: float) -> dict[str, object]:
    port, discovery = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site.yaml"
        site.write_text(SITE_YAML, encoding="utf-8")
        command = [sys.executable, "-m", "nocturna", "--config", str(site), "--data", tmp,
                   "alpaca", "serve", "--simulate", "--port", str(port),
                   "--discovery-port", str(discovery)]
        with running(command, port):
            return asyncio.run(nocturna_figures(f"127.0.0.1:{port}", repeats, seconds))


# ----------------------------------------------------------------- reference
def measure_reference(repeats: int, seconds: float) -> dict[str, object]:
    import alpaca_simulators
    from alpaca.camera import Camera
    from alpaca.focuser import Focuser
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    template = Path(alpaca_simulators.__file__).parent / "config" / "template.yaml"
    config = yaml.load(template.read_text(encoding="utf-8"))
    config["devices"]["camera"][0].update(cameraxsize=WIDTH, cameraysize=HEIGHT,
                                          numx=WIDTH, numy=HEIGHT)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "simulators.yaml"
        with path.open("w", encoding="utf-8") as stream:
            yaml.dump(config, stream)
        env = dict(os.environ, ASTRA_SIMULATORS_CONFIG=str(path))
        command = [sys.executable, "-m", "alpaca_simulators.run_simulator", "--host",
                   "127.0.0.1", "--port", str(port), "--config", str(path)]
        with running(command, port, env):
            camera = Camera(f"127.0.0.1:{port}", 0)
            camera.Connected = True
            camera.StartExposure(0.1, False)  # a dark frame: light frames need the internet
            while not camera.ImageReady:
                time.sleep(0.05)
            raw, nested = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                data = camera.ImageArrayRaw
                raw.append(time.perf_counter() - start)
            assert len(data) == WIDTH * HEIGHT, len(data)
            for _ in range(repeats):
                start = time.perf_counter()
                camera.ImageArray  # noqa: B018 - the property read is what is timed
                nested.append(time.perf_counter() - start)
            focuser = Focuser(f"127.0.0.1:{port}", 0)
            focuser.Connected = True
            return {"raw_s": raw, "nested_s": nested,
                    "round_trips": rate(lambda: focuser.Position, seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="image downloads per side")
    parser.add_argument("--seconds", type=float, default=3.0, help="round-trip loop length")
    args = parser.parse_args()

    ours = measure_nocturna(args.repeats, args.seconds)
    ref = measure_reference(args.repeats, args.seconds)
    ours_image = statistics.median(ours["image_s"])  # type: ignore[arg-type]
    ref_raw = statistics.median(ref["raw_s"])  # type: ignore[arg-type]
    ref_nested = statistics.median(ref["nested_s"])  # type: ignore[arg-type]

    def spread(values: object) -> str:
        items = sorted(values)  # type: ignore[call-overload]
        return f"{items[0]:.3f}–{items[-1]:.3f} s"

    print(f"ImageArray {WIDTH}×{HEIGHT} uint16 over loopback (median of {args.repeats})")
    print(f"  nocturna server → nocturna client        {ours_image:.3f} s  "
          f"({spread(ours['image_s'])})  target ≤ {IMAGE_TARGET_S} s: "
          f"{'met' if ours_image <= IMAGE_TARGET_S else 'NOT met'}")
    print(f"  alpaca-simulators → alpyca ImageArrayRaw {ref_raw:.3f} s  ({spread(ref['raw_s'])})")
    print(f"  alpaca-simulators → alpyca ImageArray    {ref_nested:.3f} s  "
          f"({spread(ref['nested_s'])})")
    print(f"  ratio: nocturna is {ref_raw / ours_image:.1f}× faster than alpyca's ImageArrayRaw, "
          f"{ref_nested / ours_image:.1f}× than ImageArray")
    ours_rt, ref_rt = float(ours["round_trips"]), float(ref["round_trips"])  # type: ignore[arg-type]
    print(f"Property round trips (sequential GET focuser/0/position, {args.seconds:g} s)")
    print(f"  nocturna server → nocturna client  {ours_rt:8.0f} /s  target ≥ "
          f"{ROUND_TRIP_TARGET:.0f}/s: {'met' if ours_rt >= ROUND_TRIP_TARGET else 'NOT met'}")
    print(f"  alpaca-simulators → alpyca         {ref_rt:8.0f} /s")
    print(f"  ratio: {ours_rt / ref_rt:.1f}×")


if __name__ == "__main__":
    main()
