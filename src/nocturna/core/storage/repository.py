"""The storage API: one :class:`Storage` over SQLite or PostgreSQL (SQLAlchemy Core).

``Storage.open(data_dir=...)`` gives a SQLite database in the data directory with no
set-up; ``Storage.open("postgresql+psycopg://user:pw@host/db")`` the same API on
PostgreSQL. The schema is created or migrated on open (:mod:`.migrations`).

Methods are synchronous and short; one Storage may be shared between threads. Async
code calls them in a worker thread, never on the event loop::

    record = await asyncio.to_thread(storage.add_telemetry, "weather", reading)

Times are aware UTC datetimes in and out (astropy Times are accepted too); a time left
out is the nocturna clock's ``now()``. JSON data (observation data, FITS headers,
telemetry) goes through :mod:`nocturna.core.serialize`, so Quantities, Times and
datetimes come back as they went in (NaN and infinities are refused: PostgreSQL
cannot store them in JSON). Bad input raises
:class:`~nocturna.core.errors.InvalidValueError`; a database failure raises
:class:`~nocturna.core.errors.StorageError` naming the operation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from numbers import Integral
from os import PathLike
from types import TracebackType
from typing import Any, Final, Self

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from nocturna.core.errors import InvalidValueError, StorageError
from nocturna.core.serialize import from_plain
from nocturna.core.storage import inputs
from nocturna.core.storage.engine import (
    create_storage_engine,
    mask_url,
    sqlite_url,
    write_transaction,
)
from nocturna.core.storage.migrations import MIGRATIONS, Migration, migrate
from nocturna.core.storage.records import (
    CommandRecord,
    CurrentRecord,
    ExposureRecord,
    ObservationRecord,
    OutboxRecord,
    SchemaVersionRecord,
    TelemetryRecord,
    TransitionRecord,
)
from nocturna.core.storage.schema import (
    commands,
    current,
    exposure_sequences,
    exposures,
    observations,
    outbox,
    schema_version,
    telemetry,
    transitions,
)


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""Marks an argument of :meth:`Storage.update_observation` left unchanged."""


class Storage:
    """The database of one nocturna unit (or of a network of units on PostgreSQL)."""

    def __init__(self, engine: Engine, version: int) -> None:
        """Wrap a migrated ``engine``; use :meth:`open` instead."""
        self._engine: Engine | None = engine
        self._url = mask_url(engine.url)
        self._version = version
        self._dialect_insert = (
            postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        )

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        data_dir: str | PathLike[str] | None = None,
        schema: str | None = None,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout_s: float = 30.0,
    ) -> Storage:
        """Open (creating or migrating) the database at ``url``.

        ``url`` None means SQLite in ``data_dir`` (``<data_dir>/nocturna.sqlite``, the
        directory is created). ``schema`` (PostgreSQL only) keeps the tables in that
        schema, created if missing. ``migrations`` is for tests of migration itself.
        """
        if url is None:
            if data_dir is None:
                raise InvalidValueError("storage needs a database URL or a data directory")
            url = sqlite_url(data_dir)
        engine = create_storage_engine(url, schema=schema, busy_timeout_s=busy_timeout_s)
        try:
            if schema is not None:
                _create_schema(engine, schema)
            version = migrate(engine, migrations)
        except sa_exc.SQLAlchemyError as exc:
            engine.dispose()
            raise StorageError(
                f"cannot open the database {mask_url(engine.url)}: {_reason(exc)}"
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, version)

    # -- lifecycle ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return self._url

    @property
    def schema_version(self) -> int:
        """The schema version of the database (the latest migration applied)."""
        return self._version

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._engine is None

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for tools and tests; use the methods otherwise)."""
        if self._engine is None:
            raise StorageError(f"the storage at {self._url} is closed")
        return self._engine

    def close(self) -> None:
        """Close every connection; further calls raise StorageError. Idempotent."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"version {self._version}"
        return f"<Storage {self._url} ({state})>"

    def schema_history(self) -> list[SchemaVersionRecord]:
        """The migrations applied to this database, oldest first."""
        query = select(schema_version).order_by(schema_version.c.version)
        with self._reading("read the schema history") as connection:
            return [SchemaVersionRecord(**row._mapping) for row in connection.execute(query)]

    # -- observations ------------------------------------------------------------

    def add_observation(
        self,
        name: str,
        *,
        status: str = "pending",
        data: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> ObservationRecord:
        """Record a new observation (``name``: the field observed)."""
        values = {
            "name": inputs.name(name, "observation name"),
            "status": inputs.name(status, "observation status"),
            "data": inputs.mapping({} if data is None else data, "observation data"),
            "created_at": inputs.when(created_at, "created_at"),
            "started_at": inputs.optional_instant(started_at, "started_at"),
            "finished_at": inputs.optional_instant(finished_at, "finished_at"),
        }
        with self._writing(f"add observation {name!r}") as connection:
            row = _insert(connection, observations, values)
        return ObservationRecord(**row._mapping)

    def update_observation(
        self,
        observation_id: int,
        *,
        name: str | _Unset = UNSET,
        status: str | _Unset = UNSET,
        started_at: datetime | _Unset | None = UNSET,
        finished_at: datetime | _Unset | None = UNSET,
        data: Mapping[str, Any] | _Unset = UNSET,
    ) -> ObservationRecord:
        """Change the given fields of an observation (``data`` is replaced whole)."""
        observation_id = inputs.identifier(observation_id, "observation id")
        changes: dict[str, Any] = {}
        if name is not UNSET:
            changes["name"] = inputs.name(name, "observation name")
        if status is not UNSET:
            changes["status"] = inputs.name(status, "observation status")
        if started_at is not UNSET:
            changes["started_at"] = inputs.optional_instant(started_at, "started_at")
        if finished_at is not UNSET:
            changes["finished_at"] = inputs.optional_instant(finished_at, "finished_at")
        if data is not UNSET:
            changes["data"] = inputs.mapping(data, "observation data")
        where = observations.c.id == observation_id
        with self._writing(f"update observation {observation_id}") as connection:
            if changes:
                statement = update(observations).where(where).values(changes)
                row = connection.execute(statement.returning(*observations.c)).one_or_none()
            else:
                row = connection.execute(select(observations).where(where)).one_or_none()
        if row is None:
            raise InvalidValueError(f"unknown observation id {observation_id}")
        return ObservationRecord(**row._mapping)

    def get_observation(self, observation_id: int) -> ObservationRecord | None:
        """The observation with ``observation_id``, or None."""
        observation_id = inputs.identifier(observation_id, "observation id")
        query = select(observations).where(observations.c.id == observation_id)
        with self._reading(f"get observation {observation_id}") as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else ObservationRecord(**row._mapping)

    def list_observations(
        self, *, status: str | None = None, name: str | None = None, limit: int | None = None
    ) -> list[ObservationRecord]:
        """Observations, newest first, optionally only those with ``status``/``name``."""
        query = select(observations)
        if status is not None:
            query = query.where(observations.c.status == inputs.name(status, "observation status"))
        if name is not None:
            query = query.where(observations.c.name == inputs.name(name, "observation name"))
        query = _newest_first(query, observations.c.created_at, observations.c.id, limit)
        with self._reading("list observations") as connection:
            return [ObservationRecord(**row._mapping) for row in connection.execute(query)]

    # -- exposures ---------------------------------------------------------------

    def add_exposure(
        self,
        image_id: str,
        *,
        camera: str,
        image_type: str,
        exposure_time_s: float,
        start_time: datetime,
        path: str | PathLike[str],
        observation_id: int | None = None,
        size_bytes: int | None = None,
        checksum: str | None = None,
        header: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> ExposureRecord:
        """Record an image file; ``image_id`` must be new.

        ``exposure_time_s`` may be a Quantity of time. ``observation_id``, if given,
        must name an existing observation.
        """
        values = {
            "image_id": inputs.name(image_id, "image id"),
            "camera": inputs.name(camera, "camera name"),
            "image_type": inputs.name(image_type, "image type"),
            "exposure_time_s": inputs.seconds(exposure_time_s, "exposure time"),
            "start_time": inputs.instant(start_time, "start_time"),
            "path": inputs.path(path),
            "observation_id": inputs.optional_identifier(observation_id, "observation id"),
            "size_bytes": inputs.size(size_bytes),
            "checksum": inputs.optional_name(checksum, "checksum"),
            "header": inputs.mapping({} if header is None else header, "header"),
            "created_at": inputs.when(created_at, "created_at"),
        }
        image_id, observation_id = values["image_id"], values["observation_id"]
        operation = f"add exposure {image_id!r}"
        with self._guard(operation):
            try:
                with write_transaction(self.engine) as connection:
                    row_id = connection.execute(_ADD_EXPOSURE, values).scalar_one()
            except sa_exc.IntegrityError:
                self._check_new_exposure(operation, image_id, observation_id)
                raise  # neither: the database's own reason
        return ExposureRecord(id=row_id, **{**values, "header": from_plain(values["header"])})

    def _check_new_exposure(self, operation: str, image_id: str,
                            observation_id: int | None) -> None:
        """Why an exposure row was refused: its image id is taken, or its observation
        is unknown (the database says only which constraint failed)."""
        with self._reading(operation) as connection:
            if connection.scalar(select(exists().where(exposures.c.image_id == image_id))):
                raise InvalidValueError(f"an exposure with image id {image_id!r} already exists")
            if observation_id is not None and not connection.scalar(
                select(exists().where(observations.c.id == observation_id))
            ):
                raise InvalidValueError(
                    f"unknown observation id {observation_id} for exposure {image_id!r}"
                )

    def get_exposure(self, image_id: str) -> ExposureRecord | None:
        """The exposure with ``image_id``, or None."""
        query = select(exposures).where(exposures.c.image_id == inputs.name(image_id, "image id"))
        with self._reading(f"get exposure {image_id!r}") as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else ExposureRecord(**row._mapping)

    def list_exposures(
        self,
        *,
        observation_id: int | None = None,
        camera: str | None = None,
        image_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[ExposureRecord]:
        """Exposures by start time, newest first; ``since <= start_time < until``."""
        query = _exposures_where(select(exposures), observation_id=observation_id,
                                 camera=camera, image_type=image_type, since=since,
                                 until=until)
        query = _newest_first(query, exposures.c.start_time, exposures.c.id, limit)
        with self._reading("list exposures") as connection:
            return [ExposureRecord(**row._mapping) for row in connection.execute(query)]

    def exposure_counts(
        self,
        *,
        observation_id: int | None = None,
        image_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> dict[str, int]:
        """Exposures per camera (camera name → rows), selected as by
        :meth:`list_exposures`; cameras by name."""
        query = _exposures_where(
            select(exposures.c.camera, func.count()).group_by(exposures.c.camera),
            observation_id=observation_id, image_type=image_type, since=since, until=until)
        with self._reading("count exposures per camera") as connection:
            return {str(camera): int(count) for camera, count in
                    sorted(connection.execute(query).all())}

    # -- exposure numbers --------------------------------------------------------

    def reserve_exposure_numbers(
        self, stream: str, day_obs: int, count: int = 1, *, limit: int = 99_999
    ) -> range:
        """Reserve the next ``count`` sequence numbers of ``stream`` on ``day_obs``.

        Numbers start at 1 each observing day and are never handed out twice, by any
        process sharing the database: one atomic upsert increments the stored last
        number. Reserving past ``limit`` raises :class:`StorageError` and reserves
        nothing.
        """
        stream = inputs.name(stream, "stream")
        day_obs = inputs.identifier(day_obs, "observing day")
        if isinstance(count, bool) or not isinstance(count, Integral) or count < 1:
            raise InvalidValueError(f"count of exposure numbers must be an integer >= 1, "
                                    f"got {count!r}")
        count = int(count)
        now = inputs.when(None, "updated_at")
        statement = self._dialect_insert(exposure_sequences).values(
            stream=stream, day_obs=day_obs, last_number=count, updated_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[exposure_sequences.c.stream, exposure_sequences.c.day_obs],
            set_={"last_number": exposure_sequences.c.last_number + count, "updated_at": now},
        ).returning(exposure_sequences.c.last_number)
        with self._writing(f"reserve exposure numbers of {stream!r}") as connection:
            last = int(connection.execute(statement).scalar_one())
            if last > limit:
                raise StorageError(
                    f"{stream!r} has no exposure numbers left on observing day {day_obs}: "
                    f"{last - count} used, {count} more asked, at most {limit} a day"
                )
        return range(last - count + 1, last + 1)

    def last_exposure_number(self, stream: str, day_obs: int) -> int:
        """The last sequence number reserved for ``stream`` on ``day_obs`` (0: none)."""
        query = select(exposure_sequences.c.last_number).where(
            exposure_sequences.c.stream == inputs.name(stream, "stream"),
            exposure_sequences.c.day_obs == inputs.identifier(day_obs, "observing day"))
        with self._reading(f"read the exposure numbers of {stream!r}") as connection:
            return int(connection.scalar(query) or 0)

    # -- telemetry and current records -------------------------------------------

    def add_telemetry(
        self,
        kind: str,
        data: Mapping[str, Any],
        *,
        source: str | None = None,
        time: datetime | None = None,
        current: bool = False,
    ) -> TelemetryRecord:
        """Record a reading; with ``current=True`` also make it the current ``kind``."""
        values = _current_values(kind, data, source, time)
        with self._writing(f"add {kind!r} telemetry") as connection:
            row = _insert(connection, telemetry, values)
            if current:
                self._upsert_current(connection, values)
        return TelemetryRecord(**row._mapping)

    def list_telemetry(
        self,
        kind: str | None = None,
        *,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[TelemetryRecord]:
        """Readings, newest first, optionally of one ``kind``/``source``;
        ``since <= time < until``."""
        query = select(telemetry)
        if kind is not None:
            query = query.where(telemetry.c.kind == inputs.name(kind, "telemetry kind"))
        if source is not None:
            query = query.where(telemetry.c.source == inputs.name(source, "telemetry source"))
        query = _time_range(query, telemetry.c.time, since, until)
        query = _newest_first(query, telemetry.c.time, telemetry.c.id, limit)
        with self._reading("list telemetry") as connection:
            return [TelemetryRecord(**row._mapping) for row in connection.execute(query)]

    def set_current(
        self,
        kind: str,
        data: Mapping[str, Any],
        *,
        source: str | None = None,
        time: datetime | None = None,
    ) -> CurrentRecord:
        """Make ``data`` the current record of ``kind`` (insert or replace)."""
        values = _current_values(kind, data, source, time)
        with self._writing(f"set current {kind!r}") as connection:
            row = self._upsert_current(connection, values)
        return CurrentRecord(**row._mapping)

    def get_current(self, kind: str) -> CurrentRecord | None:
        """The current record of ``kind``, or None if there is none."""
        query = select(current).where(current.c.kind == inputs.name(kind, "kind"))
        with self._reading(f"get current {kind!r}") as connection:
            row = connection.execute(query).one_or_none()
        return None if row is None else CurrentRecord(**row._mapping)

    def get_all_current(self) -> dict[str, CurrentRecord]:
        """Every current record, by kind."""
        query = select(current).order_by(current.c.kind)
        with self._reading("get all current records") as connection:
            records = [CurrentRecord(**row._mapping) for row in connection.execute(query)]
        return {record.kind: record for record in records}

    def _upsert_current(self, connection: Connection, values: Mapping[str, Any]) -> Row[Any]:
        statement = self._dialect_insert(current).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[current.c.kind],
            set_={name: statement.excluded[name] for name in ("time", "source", "data")},
        )
        return connection.execute(statement.returning(*current.c)).one()

    # -- state transitions -------------------------------------------------------

    def add_transition(
        self,
        from_state: str | None,
        to_state: str,
        reason: str = "",
        *,
        time: datetime | None = None,
    ) -> TransitionRecord:
        """Record a change of state."""
        if not isinstance(reason, str):
            raise InvalidValueError(f"transition reason must be a string, got {reason!r}")
        values = {
            "time": inputs.when(time, "time"),
            "from_state": inputs.optional_name(from_state, "from_state"),
            "to_state": inputs.name(to_state, "to_state"),
            "reason": reason,
        }
        with self._writing(f"add transition to {to_state!r}") as connection:
            row = _insert(connection, transitions, values)
        return TransitionRecord(**row._mapping)

    def list_transitions(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[TransitionRecord]:
        """State transitions, newest first; ``since <= time < until``."""
        query = _time_range(select(transitions), transitions.c.time, since, until)
        query = _newest_first(query, transitions.c.time, transitions.c.id, limit)
        with self._reading("list transitions") as connection:
            return [TransitionRecord(**row._mapping) for row in connection.execute(query)]

    # -- operator commands -------------------------------------------------------

    def add_command(
        self,
        operator: str,
        role: str,
        command: str,
        args: Mapping[str, Any] | None = None,
        *,
        accepted: bool,
        detail: str = "",
        address: str | None = None,
        time: datetime | None = None,
    ) -> CommandRecord:
        """Record a command an operator sent, accepted or refused, and what came of it."""
        if not isinstance(detail, str):
            raise InvalidValueError(f"command detail must be a string, got {detail!r}")
        values = {
            "time": inputs.when(time, "time"),
            "operator": inputs.name(operator, "operator"),
            "role": inputs.name(role, "role"),
            "address": inputs.optional_name(address, "address"),
            "command": inputs.name(command, "command"),
            "args": inputs.mapping({} if args is None else args, "command args"),
            "accepted": bool(accepted),
            "detail": detail,
        }
        with self._writing(f"add command {command!r}") as connection:
            row = _insert(connection, commands, values)
        return CommandRecord(**row._mapping)

    def list_commands(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[CommandRecord]:
        """Operator commands, newest first; ``since <= time < until``."""
        query = _time_range(select(commands), commands.c.time, since, until)
        query = _newest_first(query, commands.c.time, commands.c.id, limit)
        with self._reading("list commands") as connection:
            return [CommandRecord(**row._mapping) for row in connection.execute(query)]

    # -- the network outbox -----------------------------------------------------

    def add_outbox(self, message_id: str, topic: str, payload: str, *, retain: bool = False,
                   replace_unsent: bool = False, time: datetime | None = None
                   ) -> OutboxRecord:
        """Keep a message for the broker until :meth:`mark_outbox_sent`.

        ``replace_unsent``: the unsent messages of the same topic are dropped first (a
        retained status: only the newest counts), in the same transaction.
        """
        values = {"message_id": inputs.name(message_id, "message id"),
                  "topic": inputs.name(topic, "topic"), "payload": str(payload),
                  "retain": bool(retain), "created_at": inputs.when(time, "time"),
                  "sent_at": None}
        with self._writing(f"add outbox message on {topic!r}") as connection:
            if replace_unsent:
                connection.execute(outbox.delete().where(
                    outbox.c.topic == values["topic"], outbox.c.sent_at.is_(None)))
            row = _insert(connection, outbox, values)
        return OutboxRecord(**row._mapping)

    def list_outbox_unsent(self, *, limit: int | None = None) -> list[OutboxRecord]:
        """The messages the broker has not acknowledged, oldest first."""
        query = select(outbox).where(outbox.c.sent_at.is_(None)).order_by(outbox.c.id)
        if limit is not None:
            query = query.limit(inputs.identifier(limit, "limit"))
        with self._reading("list unsent outbox messages") as connection:
            return [OutboxRecord(**row._mapping) for row in connection.execute(query)]

    def list_outbox(self) -> list[OutboxRecord]:
        """Every message kept in the outbox, sent or not, oldest first."""
        with self._reading("list outbox messages") as connection:
            return [OutboxRecord(**row._mapping)
                    for row in connection.execute(select(outbox).order_by(outbox.c.id))]

    def mark_outbox_sent(self, ids: Sequence[int], *, time: datetime | None = None) -> int:
        """Mark outbox rows (by row id) acknowledged; how many were marked."""
        if not ids:
            return 0
        keys = [inputs.identifier(row_id, "outbox id") for row_id in ids]
        when = inputs.when(time, "time")
        with self._writing("mark outbox messages sent") as connection:
            result = connection.execute(update(outbox).where(
                outbox.c.id.in_(keys), outbox.c.sent_at.is_(None)).values(sent_at=when))
        return int(result.rowcount or 0)

    def prune_outbox(self, before: datetime) -> int:
        """Forget the messages acknowledged before ``before``; how many went."""
        when = inputs.instant(before, "before")
        with self._writing("prune the outbox") as connection:
            result = connection.execute(outbox.delete().where(
                outbox.c.sent_at.is_not(None), outbox.c.sent_at < when))
        return int(result.rowcount or 0)

    # -- plumbing ----------------------------------------------------------------

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Turn SQLAlchemy errors into typed nocturna errors naming ``operation``."""
        try:
            yield
        except sa_exc.DBAPIError as exc:
            raise StorageError(f"{operation} failed on {self._url}: {_reason(exc)}") from exc
        except sa_exc.StatementError as exc:  # a value the column type could not convert
            raise InvalidValueError(f"cannot {operation}: {exc.orig}") from exc
        except sa_exc.SQLAlchemyError as exc:
            raise StorageError(f"{operation} failed on {self._url}: {exc}") from exc

    @contextmanager
    def _reading(self, operation: str) -> Iterator[Connection]:
        with self._guard(operation), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def _writing(self, operation: str) -> Iterator[Connection]:
        with self._guard(operation), write_transaction(self.engine) as connection:
            yield connection


# -- helpers ---------------------------------------------------------------------

_ADD_EXPOSURE = insert(exposures).returning(exposures.c.id)
"""One exposure row from a dict of every column but ``id`` (compiled once, cached)."""


def _reason(exc: sa_exc.SQLAlchemyError) -> str:
    """The first line of what the database driver said."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _create_schema(engine: Engine, schema: str) -> None:
    """Create the PostgreSQL ``schema`` unless it exists (which needs no privilege)."""
    with write_transaction(engine) as connection:
        query = text("SELECT 1 FROM pg_namespace WHERE nspname = :schema")
        if connection.scalar(query, {"schema": schema}) is None:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))


def _insert(connection: Connection, table: Table, values: Mapping[str, Any]) -> Row[Any]:
    return connection.execute(insert(table).values(values).returning(*table.c)).one()


def _time_range(
    query: Select[Any], column: Column[Any], since: datetime | None, until: datetime | None
) -> Select[Any]:
    if since is not None:
        query = query.where(column >= inputs.instant(since, "since"))
    if until is not None:
        query = query.where(column < inputs.instant(until, "until"))
    return query


def _newest_first(
    query: Select[Any], time: Column[Any], id_: Column[Any], limit: int | None
) -> Select[Any]:
    query = query.order_by(time.desc(), id_.desc())
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, Integral) or limit < 1:
            raise InvalidValueError(f"limit must be a positive integer or None, got {limit!r}")
        query = query.limit(int(limit))
    return query


def _current_values(
    kind: str, data: Mapping[str, Any], source: str | None, time: datetime | None
) -> dict[str, Any]:
    """Column values shared by telemetry rows and current records."""
    return {
        "time": inputs.when(time, "time"),
        "kind": inputs.name(kind, "kind"),
        "source": inputs.optional_name(source, "source"),
        "data": inputs.mapping(data, f"{kind} data"),
    }


def _exposures_where(query: Select[Any], *, observation_id: int | None = None,
                     camera: str | None = None, image_type: str | None = None,
                     since: datetime | None = None,
                     until: datetime | None = None) -> Select[Any]:
    """``query`` restricted to the exposures of an observation, camera, image type and
    ``since <= start_time < until`` (checked inputs)."""
    if observation_id is not None:
        observation_id = inputs.identifier(observation_id, "observation id")
        query = query.where(exposures.c.observation_id == observation_id)
    if camera is not None:
        query = query.where(exposures.c.camera == inputs.name(camera, "camera name"))
    if image_type is not None:
        query = query.where(exposures.c.image_type == inputs.name(image_type, "image type"))
    return _time_range(query, exposures.c.start_time, since, until)
