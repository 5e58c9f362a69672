"""The shot state machine: ``begin`` → ``integrate`` → ``readout`` → ``end`` (or all
at once: ``expose``, ``expose1``), with ``pause``/``resume`` while integrating and
``abort`` at any step (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nocturna.azcam.detector import Roi
from nocturna.azcam.remote import remote
from nocturna.azcam.tools.exposure.flags import ExposureFlag
from nocturna.azcam.tools.exposure.shot import Shot, first
from nocturna.azcam.tools.exposure.writing import FrameWriting
from nocturna.azcam.values import number, text
from nocturna.core.atomic import temporary_name
from nocturna.core.errors import InvalidOperationError, OperationCancelledError
from nocturna.devices.camera import CameraImage
from nocturna.instrument.exposure_ids import next_group_id

log = logging.getLogger(__name__)


class ExposureLifecycle(FrameWriting):
    """The steps of one exposure, and what may interrupt them."""

    _task: asyncio.Task[None] | None  # expose1 / sequence1 running in the background
    _last_shot: Shot | None
    _in_sequence: bool
    _stop_sequence: bool

    # ================================================================ commands
    @remote
    async def expose(self, exposure_time: float = -1, imagetype: str = "",
                     title: str = "") -> None:
        """A complete exposure; returns when the file is written (and sent/shown)."""
        self._refuse_if_busy()
        await self._begin(exposure_time, imagetype, title, None)
        await self._finish()

    @remote
    async def expose1(self, exposure_time: float = -1, image_type: str = "",
                      image_title: str = "") -> None:
        """A complete exposure that returns once it has begun (checked, camera started);
        the rest runs in the background: follow it with get_status / get_exposureflag."""
        self._refuse_if_busy()
        await self._begin(exposure_time, image_type, image_title, None)
        self._task = asyncio.get_running_loop().create_task(self._finish_in_background())

    async def _finish(self) -> None:
        await self.integrate()
        await self.readout()
        await self.end()

    async def _finish_in_background(self) -> None:
        with contextlib.suppress(Exception):  # kept in last_error / flag / message
            await self._finish()

    @remote
    async def begin(self, exposure_time: float = -1, imagetype: str = "",
                    title: str = "") -> None:
        """Check, reserve the exposure id, start the camera exposure (step 1 of 4)."""
        self._refuse_if_busy()
        await self._begin(exposure_time, imagetype, title, None)

    @remote
    async def integrate(self) -> None:
        """Wait until the exposure has collected its open time (step 2 of 4)."""
        shot = await self._run_step("integrate", self._integrate)
        shot.step = "readout"
        if not shot.aborted:
            self.flag = ExposureFlag.READ

    @remote
    async def readout(self) -> None:
        """Read the camera's image and lay it out as raw amplifier data (step 3 of 4)."""
        shot = await self._run_step("readout", self._readout)
        shot.step = "end"

    @remote
    async def end(self) -> None:
        """Write, record, send and display the image (step 4 of 4)."""
        await self._close(await self._run_step("end", self._write), None)

    @remote
    async def abort(self) -> None:
        """Abort the exposure in progress (any step) and stop a running sequence."""
        self._stop_sequence = True
        shot = self._shot
        if shot is None:
            if self._in_sequence:  # between two exposures of a sequence
                self.flag, self.message = ExposureFlag.ABORT, "sequence aborted"
            return
        log.info("exposure aborted (during %s)", shot.step)
        shot.abort()
        self.flag = ExposureFlag.ABORT
        self.message = "exposure aborted"
        if shot.camera_started:
            with contextlib.suppress(Exception):
                await self.camera.abort_exposure()
        if not shot.running:  # between step-wise calls: nobody else will clean up
            await self._close(shot, OperationCancelledError("exposure aborted"))

    @remote
    async def pause(self) -> None:
        """Pause the integration: the camera closes its shutter and the timer stops."""
        shot = self._shot
        if shot is None or shot.step not in ("begin", "integrate") or not shot.camera_started \
                or shot.aborted:
            raise InvalidOperationError("pause: no exposure is integrating")
        if shot.paused_since is not None:
            raise InvalidOperationError("pause: the exposure is already paused")
        if self._remaining(shot) <= 0:
            raise InvalidOperationError("pause: the integration has already ended")
        await self.camera.pause_exposure()
        shot.pause_at(self.clock.timestamp())
        self.flag = ExposureFlag.PAUSED
        log.info("exposure paused, %.3f s still to integrate", self._remaining(shot))

    @remote
    async def resume(self) -> None:
        """Resume a paused integration."""
        shot = self._shot
        if shot is None or shot.paused_since is None or shot.aborted:
            raise InvalidOperationError("resume: no exposure is paused")
        await self.camera.resume_exposure()
        shot.resume_at(self.clock.timestamp())
        self.flag = ExposureFlag.EXPOSING
        log.info("exposure resumed")

    @remote
    async def test(self, exposure_time: float = 0.0, shutter: int = 0) -> None:
        """azcam's test exposure: a test image (not kept), shutter open (1) or closed (0);
        the image type, time and test flag are restored afterwards."""
        saved = (self.filenames.test_image, self.image_type, self.exposure_time, self.title)
        self.filenames.test_image = True
        try:
            await self.expose(exposure_time, "object" if shutter else "dark", "test image")
        finally:
            (self.filenames.test_image, self.image_type, self.exposure_time,
             self.title) = saved

    @remote
    async def reset(self) -> None:
        """Abort anything in progress and clear the flag and message (azcam's reset)."""
        await self.abort()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task
        self.flag, self.message, self.last_error = ExposureFlag.NONE, "", None

    async def write_frame(self, image: CameraImage, imagetype: str, title: str,
                          cards: dict[str, tuple[Any, str]] | None = None) -> str:
        """Write a frame taken by another tool (the focus tool's charge-shift frame) as
        this tool's next image: same names, file type, geometry, header and database row.
        The exposure settings (time, type, title) are left as they were. Returns the
        file name."""
        saved = (self.exposure_time, self.image_type, self.title)
        try:
            shot = await self._plan(image.duration_s, imagetype, title, None)
        finally:
            self.exposure_time, self.image_type, self.title = saved
        rows, cols = image.data.shape[:2]
        shot.col_bin, shot.row_bin = image.bin_x, image.bin_y
        shot.roi = Roi(image.start_x * image.bin_x + 1, (image.start_x + cols) * image.bin_x,
                       image.start_y * image.bin_y + 1, (image.start_y + rows) * image.bin_y)
        shot.cards = dict(cards or {})
        with self.instrument.reserve("writing a frame"):
            await self._reserve_ids(shot)
            shot.readings = asyncio.ensure_future(
                self.instrument.pipeline.read_at_start(image.start_time))
            await self._lay_out(shot, image)
            await self._write(shot)
        return shot.filename

    # ================================================================ the steps
    def _refuse_if_busy(self) -> None:
        if self._shot is not None:
            raise InvalidOperationError(
                f"an exposure is in progress ({self._shot.step} is next); finish it or "
                "abort() it first")
        if self._in_sequence or (self._task is not None and not self._task.done()):
            raise InvalidOperationError("an exposure or sequence is running in the "
                                        "background; wait for it or abort() it")

    def _step(self, step: str) -> Shot:
        shot = self._shot
        if shot is None:
            raise InvalidOperationError(f"{step}: no exposure has begun; call begin() first")
        if shot.running:
            raise InvalidOperationError(f"{step}: {shot.step} is still running")
        if shot.step != step:
            raise InvalidOperationError(f"{step}: out of order, {shot.step}() is the next "
                                        "step of this exposure")
        shot.running = True
        return shot

    async def _run_step(self, step: str, work: Callable[[Shot], Awaitable[None]]) -> Shot:
        """Run ``work`` as ``step`` of the exposure in progress; a failure ends it."""
        shot = self._step(step)
        try:
            await work(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        shot.running = False
        return shot

    def _check_instrument(self) -> None:
        gate = self.instrument.gate
        if gate is not None:
            gate("azcam exposure")
        if self.instrument.busy:
            raise InvalidOperationError(f"instrument {self.instrument.name!r} is running a "
                                        "sequence; the exposure tool waits for it to end")

    async def _begin(self, exposure_time: float, imagetype: str, title: str,
                     flush: int | None) -> None:
        self._check_instrument()
        shot = await self._plan(exposure_time, imagetype, title, flush)
        self._shot, shot.running = shot, True
        self.flag, self.message, self.last_error = ExposureFlag.SETUP, "", None
        shot.claim.enter_context(self.instrument.reserve("an azcam exposure"))
        try:
            await self._start(shot)
        except BaseException as exc:
            await self._close(shot, exc)
            raise
        shot.running, shot.step = False, "integrate"
        if not shot.aborted:
            self.flag = ExposureFlag.EXPOSING if shot.paused_since is None \
                else ExposureFlag.PAUSED

    async def _plan(self, exposure_time: float, imagetype: str, title: str,
                    flush: int | None) -> Shot:
        """Everything checked, nothing moved: the exposure as it will run."""
        name = text(imagetype, "imagetype").strip().lower() or self.image_type
        kind = self._kind(name)
        requested = self.exposure_time
        seconds = number(exposure_time, "exposure_time")
        if seconds >= 0:
            requested = seconds
        title = self._title(title) or self.title
        filetype = self.filetype
        test = self.filenames.test_image
        final = self.filenames.path(self._extension(filetype), name)
        self.filenames.check_free(final)
        path = temporary_name(final) if test else final
        await self._check_readout(filetype)
        self.exposure_time = requested
        self.image_type = name
        self.title = title
        return Shot(imagetype=name, kind=kind,
                    exposure_time=0.0 if kind.zero_exposure else requested,
                    requested=requested, title=title, test=test, filetype=filetype,
                    path=path, filename=final.as_posix(), geometry=self.geometry,
                    roi=self.roi, col_bin=self.col_bin, row_bin=self.row_bin,
                    group_id=next_group_id(self.clock), flush=flush)

    async def _start(self, shot: Shot) -> None:
        camera = self.camera
        bin_x, bin_y = shot.col_bin, shot.row_bin
        await camera.set_frame(bin_x, bin_y, (shot.roi.first_col - 1) // bin_x,
                               (shot.roi.first_row - 1) // bin_y, shot.roi.ncols // bin_x,
                               shot.roi.nrows // bin_y)
        await self._reserve_ids(shot)
        if shot.kind.name == "COMP":
            tool = self.instrument_tool
            if tool is None:
                raise InvalidOperationError(f"imagetype {shot.imagetype!r} is a comparison "
                                            "but no instrument tool drives lamps")
            lit = await shot.guard(shot.stack.enter_async_context(
                tool.lamps_lit(shot.imagetype)))
            shot.lamps = [str(n) for n in lit] if isinstance(lit, list | tuple) \
                else [shot.imagetype]
        shot.raise_if_aborted()
        await camera.start_exposure(shot.exposure_time, shot.kind.light)
        shot.camera_started = True
        shot.open_since = self.clock.timestamp()
        shot.readings = asyncio.ensure_future(
            self.instrument.pipeline.read_at_start(self.clock.now()))
        await shot.guard(asyncio.shield(shot.readings))  # read before begin returns
        log.info("exposure started: %s %g s %r -> %s", shot.imagetype, shot.exposure_time,
                 shot.title, shot.filename)

    async def _integrate(self, shot: Shot) -> None:
        while True:
            shot.changed.clear()
            shot.raise_if_aborted()
            remaining = self._remaining(shot)
            if shot.paused_since is None and remaining <= 0:
                break
            if shot.paused_since is not None:
                await shot.changed.wait()
            else:
                await first(self.clock.sleep(remaining), shot.changed.wait())
        await shot.stack.aclose()  # lamps off as soon as the light is collected
        log.debug("integration finished")

    async def _readout(self, shot: Shot) -> None:
        self.flag = ExposureFlag.READOUT
        await shot.guard(self.camera.wait_until_ready(
            0.0, timeout_s=self.instrument.exposure_timeout_s))
        image = await self.camera.image()
        shot.raise_if_aborted()
        self.instrument.pipeline.observe(image)
        await self._lay_out(shot, image)
        shot.raise_if_aborted()

    def _remaining(self, shot: Shot) -> float:
        return shot.remaining(self.clock.timestamp())

    # ================================================================ clean-up
    async def _close(self, shot: Shot, error: BaseException | None) -> None:
        """End ``shot`` (once): lamps off, camera stopped on failure, instrument freed."""
        if self._shot is not shot:
            return
        self._shot = None
        self._last_shot = shot
        shot.running = False
        try:
            await shot.stack.aclose()
        except Exception:
            log.exception("could not switch the comparison lamps off")
        if error is not None and shot.camera_started:
            with contextlib.suppress(Exception):
                await self.camera.abort_exposure()
        if shot.readings is not None and not shot.readings.done():
            shot.readings.cancel()
            await asyncio.gather(shot.readings, return_exceptions=True)
        shot.claim.close()
        if shot.test and error is not None:
            shot.path.unlink(missing_ok=True)
        if error is None:
            self.flag = ExposureFlag.NONE
        elif shot.aborted or isinstance(error, asyncio.CancelledError | OperationCancelledError):
            self.flag, self.message = ExposureFlag.ABORT, "exposure aborted"
        else:
            self.flag, self.message, self.last_error = ExposureFlag.ERROR, str(error), error
            log.error("exposure failed during %s: %s", shot.step, error)
