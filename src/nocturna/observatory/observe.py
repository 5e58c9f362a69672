"""Observing the current observation: slew (the dome follows), then take a set.

A set is the observation's next ``exp_set_size`` frames (one filter per set). Before
every frame a checkpoint makes sure the frame may still be taken: the Sun will still
be below the observing twilight when it ends, the field will still be above the
horizon, and a German mount that has tracked past the meridian flips first
(:class:`MeridianFlipNeeded` stops the set; the states re-slew and carry on). With
tracking correction on, the checkpoint also guides the pointing back onto the first
frame after the slew (:mod:`nocturna.loops.tracking`). An operator's request stops
the set before its next frame too (:class:`OperatorPreempted`): a pause, a park, or a
target of opportunity waiting to go first; the frame in progress is finished and
written.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nocturna.components.states import describe_error
from nocturna.core.errors import InvalidOperationError, NocturnaError
from nocturna.instrument.lockstep import Follower, LeadStopped, take_in_lockstep
from nocturna.observatory.closedloops import correct_tracking, tracking_corrector
from nocturna.observatory.enclosure import align_dome

if TYPE_CHECKING:
    from nocturna.instrument.instrument import Instrument
    from nocturna.observatory.unit import Observatory

log = logging.getLogger(__name__)

OBSERVING = "observing"
FINISHED = "finished"
INCOMPLETE = "incomplete"
"""Observation record statuses: under way, done to plan, ended with the plan unfinished."""


class ObservationStopped(NocturnaError):
    """A set stopped before its end for a reason of the sky, not of a device."""


class MeridianFlipNeeded(ObservationStopped):
    """The mount tracked past the meridian limit: re-slew (flip) before the next frame."""


class FieldSetting(ObservationStopped):
    """The field would go below the horizon (or twilight would begin) during the frame."""


class OperatorPreempted(ObservationStopped):
    """An operator's request goes before the rest of the set (a pause, a target of
    opportunity)."""


def target_altaz(unit: Observatory, ra_deg: float, dec_deg: float,
                 when: datetime) -> tuple[float, float]:
    """Altitude and azimuth (degrees, no refraction) of an ICRS position at ``when``."""
    import astropy.units as u
    from astropy.coordinates import AltAz, SkyCoord
    from astropy.time import Time

    frame = AltAz(obstime=Time(when), location=unit.location)
    altaz = SkyCoord(ra_deg * u.deg, dec_deg * u.deg).transform_to(frame)
    return float(altaz.alt.deg), float(altaz.az.deg)


def above_horizon(unit: Observatory, ra_deg: float, dec_deg: float, when: datetime) -> bool:
    alt, az = target_altaz(unit, ra_deg, dec_deg, when)
    return bool(unit.scheduler.is_above_horizon(alt, az))


async def slew_to_observation(unit: Observatory, observation: Any) -> None:
    """Point the mount at the observation's field (refusing one below the horizon)."""
    mount = unit.mount
    if mount is None:
        raise InvalidOperationError(f"{unit.name}: no mount to slew")
    fld = observation.field
    unit.on_target = None
    now = unit.clock.now()
    if not above_horizon(unit, fld.ra_deg, fld.dec_deg, now):
        alt, az = target_altaz(unit, fld.ra_deg, fld.dec_deg, now)
        raise FieldSetting(f"{fld.name} is below the horizon (alt {alt:.1f}°, az {az:.1f}°)")
    status = await mount.state()
    if status.at_park:
        await mount.unpark()
    if not status.tracking:
        await mount.set_tracking(True)
    await mount.slew_and_wait(fld.ra_deg / 15.0, fld.dec_deg)
    if unit.tracker is not None:
        unit.tracker.reset()  # a new pointing: the next frame is the new reference
    await align_dome(unit)
    unit.publish("slewed", field=fld.name)


async def needs_meridian_flip(unit: Observatory, observation: Any) -> bool:
    """Whether the mount tracks past the meridian on the side a fresh slew would leave."""
    mount, settings = unit.mount, unit.settings.meridian
    if mount is None or not settings.flip:
        return False
    status = await mount.state()
    if status.at_park or not status.tracking:
        return False
    hour_angle_deg = ((status.sidereal_time_hours - status.ra_hours + 12.0) % 24.0 - 12.0) * 15
    if hour_angle_deg < settings.flip_after.to_value("deg"):
        return False
    fld = observation.field
    destination = await mount.destination_side_of_pier(fld.ra_deg / 15.0, fld.dec_deg)
    return destination.name != "UNKNOWN" and destination != status.side_of_pier


async def _observation_record(unit: Observatory, observation: Any) -> int:
    """The storage id of the observation (created when first observed tonight)."""
    record_id = getattr(observation, "record_id", None)
    if record_id is None:
        fld = observation.field
        record = unit.storage.add_observation(
            fld.name, status=OBSERVING, started_at=unit.clock.now(),
            data={"ra_deg": fld.ra_deg, "dec_deg": fld.dec_deg, "priority": fld.priority,
                  "min_nexp": fld.min_nexp, "exp_set_size": fld.exp_set_size,
                  "filters": list(fld.filters), "exptimes_s": list(fld.exptimes_s)})
        record_id = record.id
        observation.record_id = record_id
    return record_id


async def take_set(unit: Observatory, observation: Any) -> int:
    """Take the rest of the observation's current set; returns the frames written.

    Every imaging camera of the unit takes the set, in lockstep with the primary one
    (:mod:`nocturna.instrument.lockstep`): the same group id, visits and observation,
    one exposure id and row per frame. The primary camera's frames count towards the
    plan; another camera that fails is logged and left out, the set goes on.
    Frames already taken are counted even when the set stops early (checkpoint,
    error, cancellation): the count comes from the database rows of the observation.
    """
    planned = observation.next_set()
    if not planned:
        return 0
    record_id = await _observation_record(unit, observation)
    fld = observation.field
    lead = unit.instrument
    camera = lead.camera.name
    before = len(unit.storage.list_exposures(observation_id=record_id, camera=camera))
    runs = _runs(planned)
    total = len(planned)
    done = 0
    follower_filters = {f.name: await _filters(f) for f in unit.imaging_followers}

    tracker = await tracking_corrector(unit)

    async def checkpoint(message: str) -> None:
        why = unit.operator.preempts(observation)
        if why is not None:
            raise OperatorPreempted(f"{fld.name} stopped before its next frame: {why}")
        await _check_frame(unit, observation, exptime)
        if tracker is not None:
            await correct_tracking(unit, tracker, fld.name)
        unit.status.frame = f"{observation.exposures_taken + done + 1}/" \
                            f"{observation.total_frames}"

    if tracker is not None:
        lead.frame_observers.append(tracker.observe)
    try:
        for (filter_name, exptime), count in runs:
            setup = {"filter": filter_name} if filter_name else {}
            followers = [Follower(f, {"filter": filter_name}
                                  if filter_name in follower_filters[f.name] else {})
                         for f in unit.imaging_followers]
            result = await take_in_lockstep(
                lead, followers, "OBJECT", exptime, count, title=fld.name,
                reason="science", program=unit.name, note=f"set {observation.sets_taken + 1}",
                checkpoint=checkpoint, observation_id=record_id, **setup)
            for name, error in result.follower_errors.items():
                if not isinstance(error, LeadStopped):
                    log.warning("%s: camera %s left the set: %s", fld.name, name,
                                describe_error(error))
            done += count
    finally:
        if tracker is not None:
            lead.frame_observers.remove(tracker.observe)
        rows = unit.storage.list_exposures(observation_id=record_id, camera=camera)
        written = len(rows) - before
        for row in sorted(rows, key=lambda r: r.start_time)[before:]:
            observation.record_exposure(row.image_id)
            unit.nightlog.light(fld.name, 1, row.exposure_time_s)
        unit.scheduler.record_visit(fld.name, unit.clock.now(), written)
        status = FINISHED if observation.is_finished else OBSERVING
        record = unit.storage.get_observation(record_id)
        data = {**(record.data if record is not None else {}),
                "camera_frames": unit.storage.exposure_counts(observation_id=record_id)}
        unit.storage.update_observation(
            record_id, status=status, data=data,
            finished_at=unit.clock.now() if observation.is_finished else None)
        log.info("%s: %d of %d frames of the set written", fld.name, written, total)
    return written


async def _filters(instrument: Instrument) -> set[str]:
    """The filters another camera can move to (none if its wheel cannot be read: it
    takes the set without, or fails and is left out)."""
    try:
        return set((await instrument.get_available_setup())[0])
    except Exception as exc:
        log.warning("%s: filters unknown (%s)", instrument.name, exc)
        return set()


def close_open_observations(unit: Observatory, status: str = INCOMPLETE) -> list[str]:
    """End every observation record still ``observing`` with ``status`` (the night is
    over, the run ends, or a killed run left them); their names. The next visit starts
    a new record."""
    now, closed = unit.clock.now(), []
    for record in unit.storage.list_observations(status=OBSERVING):
        unit.storage.update_observation(record.id, status=status, finished_at=now)
        closed.append(record.name)
    for observation in unit.observations.values():
        if not observation.is_finished:
            observation.record_id = None
    return closed


def _runs(planned: list[Any]) -> list[tuple[tuple[str | None, float], int]]:
    """Consecutive planned exposures grouped by (filter, exposure time)."""
    runs: list[tuple[tuple[str | None, float], int]] = []
    for item in planned:
        key = (item.filter, float(item.exptime_s))
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + 1)
        else:
            runs.append((key, 1))
    return runs


async def _check_frame(unit: Observatory, observation: Any, exptime: float) -> None:
    """Refuse the next frame if it would end in twilight, low, or past the meridian."""
    now = unit.clock.now()
    end = now + timedelta(seconds=exptime + 30.0)
    fld = observation.field
    if not unit.is_dark("observe", end):
        raise FieldSetting(f"twilight: the Sun will be at {unit.sun_altitude(end):+.1f}° "
                           f"when a {exptime:g} s frame of {fld.name} ends")
    if not above_horizon(unit, fld.ra_deg, fld.dec_deg, end):
        raise FieldSetting(f"{fld.name} will be below the horizon when the frame ends")
    if await needs_meridian_flip(unit, observation):
        raise MeridianFlipNeeded(f"{fld.name} is past the meridian: flipping the mount")
    await align_dome(unit)  # the mount tracked since the last frame
