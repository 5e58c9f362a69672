"""A simulated cryostat temperature controller: cold head, detector, heater and PI loop.

The model, integrated on nocturna's clock:

* **Cold head.** A cryocooler that runs from the moment the controller is created pulls
  the cold head first-order from ambient towards its base temperature:
  ``dTc/dt = (base_c - Tc) / cold_head_tau_s``.
* **Detector.** A thermal mass ``heat_capacity_j_per_k`` tied to the cold head through a
  conductance ``coupling_w_per_k`` and to the warm dewar through a small parasitic
  conductance ``parasitic_w_per_k``, warmed by a heater of ``heater_power_w`` watts:
  ``C dTd/dt = G (Tc - Td) + Gp (ambient_c - Td) + P``. Without heater power it
  settles at ``(G Tc + Gp Ta) / (G + Gp)``, a little above the cold head.
* **Control.** A PI loop on the detector temperature sets the heater power,
  ``P = kp e + ki ∫e dt`` with ``e = set_point - Td``, clipped to ``0..heater_power_w``.
  Anti-windup: the integral stops growing while the output is clipped and the error
  would push it further into the clip.

The state is integrated lazily, whenever someone reads it, in fixed steps of
``step_s`` on a grid anchored where the controller was created: the cold head exactly
(exponential), the detector exactly for the step's constant heater power and cold-head
temperature, the PI loop once per step. A reading between grid points adds an
uncommitted partial step. So the readings depend only on the times asked and the
set-point changes, never on how often someone looked: deterministic.

The defaults describe a small CCD dewar: cold head from 20 °C to -165 °C with a 10 min
time constant, detector coupling 0.1 W/K with a 300 s time constant of its own, a 25 W
heater, 2 mW/K parasitic load; set point -100 °C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nocturna.core.clock import Clock, get_clock
from nocturna.core.errors import InvalidValueError


@dataclass(frozen=True)
class TempReading:
    """One reading of a temperature controller (None: the controller has no such sensor)."""

    detector_c: float
    cold_head_c: float | None
    set_point_c: float
    heater_pct: float | None = None  # detector heater output, % of its maximum
    cooler_pct: float | None = None  # cooler drive (cameras with a TEC), %


@dataclass(frozen=True)
class CryostatModel:
    """The parameters of :class:`SimTempController` (see the module docstring)."""

    ambient_c: float = 20.0
    base_c: float = -165.0
    cold_head_tau_s: float = 600.0
    heat_capacity_j_per_k: float = 30.0
    coupling_w_per_k: float = 0.1
    parasitic_w_per_k: float = 0.002
    heater_power_w: float = 25.0
    kp_w_per_k: float = 1.0
    ki_w_per_k_s: float = 0.02
    step_s: float = 1.0
    set_point_range_c: tuple[float, float] = (-200.0, 40.0)

    def __post_init__(self) -> None:
        for name in ("ambient_c", "base_c"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidValueError(f"cryostat {name} must be finite, "
                                        f"got {getattr(self, name)!r}")
        for name in ("cold_head_tau_s", "heat_capacity_j_per_k", "coupling_w_per_k",
                     "heater_power_w", "step_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidValueError(f"cryostat {name} must be > 0, got {value!r}")
        for name in ("parasitic_w_per_k", "kp_w_per_k", "ki_w_per_k_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidValueError(f"cryostat {name} must be >= 0, got {value!r}")
        if self.base_c >= self.ambient_c:
            raise InvalidValueError(f"cryostat base_c {self.base_c} must be below "
                                    f"ambient_c {self.ambient_c}")
        low, high = self.set_point_range_c
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InvalidValueError(f"cryostat set_point_range_c {self.set_point_range_c!r} "
                                    "must be two finite numbers, low < high")


@dataclass
class _State:
    cold_c: float
    detector_c: float
    integral: float  # ∫e dt, K·s
    power_w: float  # heater power during the step that ended here


class SimTempController:
    """A simulated two-sensor cryostat controller; see the module docstring."""

    tolerance_c = 0.5  # how close the detector must be to count as at the set point

    def __init__(self, model: CryostatModel | None = None, *, set_point_c: float = -100.0,
                 clock: Clock | None = None) -> None:
        self.model = model or CryostatModel()
        self._clock = clock
        self._set_point = self._checked(set_point_c)
        start = self.clock.timestamp()
        ambient = self.model.ambient_c
        self._t = start  # the grid point the committed state belongs to
        self._state = _State(ambient, ambient, 0.0, 0.0)

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else get_clock()

    @property
    def set_point_c(self) -> float:
        return self._set_point

    # ----------------------------------------------------------------- physics
    def _checked(self, celsius: float) -> float:
        low, high = self.model.set_point_range_c
        if isinstance(celsius, bool) or not isinstance(celsius, int | float) \
                or not math.isfinite(celsius):
            raise InvalidValueError(f"set point {celsius!r} °C is not a finite number")
        if not low <= celsius <= high:
            raise InvalidValueError(f"set point {celsius:g} °C is outside {low:g}..{high:g} °C")
        return float(celsius)

    def _step(self, state: _State, dt: float) -> _State:
        """The state ``dt`` seconds later: PI output from the state, then exact decay."""
        m = self.model
        error = self._set_point - state.detector_c
        raw = m.kp_w_per_k * error + m.ki_w_per_k_s * state.integral
        power = min(max(raw, 0.0), m.heater_power_w)
        integral = state.integral
        saturated_low = raw <= 0.0 and error < 0.0
        saturated_high = raw >= m.heater_power_w and error > 0.0
        if not (saturated_low or saturated_high):
            integral += error * dt
        cold_end = m.base_c + (state.cold_c - m.base_c) * math.exp(-dt / m.cold_head_tau_s)
        cold_mid = 0.5 * (state.cold_c + cold_end)
        conductance = m.coupling_w_per_k + m.parasitic_w_per_k
        equilibrium = (m.coupling_w_per_k * cold_mid + m.parasitic_w_per_k * m.ambient_c
                       + power) / conductance
        decay = math.exp(-dt * conductance / m.heat_capacity_j_per_k)
        detector = equilibrium + (state.detector_c - equilibrium) * decay
        return _State(cold_end, detector, integral, power)

    def _advance(self) -> tuple[_State, float]:
        """Commit whole steps up to now; return the state at now (partial step uncommitted)."""
        now = self.clock.timestamp()
        step = self.model.step_s
        steps = int((now - self._t) // step)
        state = self._state
        for _ in range(max(0, steps)):
            state = self._step(state, step)
        if steps > 0:
            self._t += steps * step
            self._state = state
        rest = now - self._t
        return (self._step(state, rest) if rest > 1e-9 else state), now

    # ----------------------------------------------------------------- interface
    def reading(self) -> TempReading:
        """Detector and cold-head temperatures (°C) and heater output (%) now."""
        state, _ = self._advance()
        return TempReading(
            detector_c=state.detector_c, cold_head_c=state.cold_c,
            set_point_c=self._set_point,
            heater_pct=100.0 * state.power_w / self.model.heater_power_w)

    def set_set_point(self, celsius: float) -> None:
        """Change the set point (finite, within the model's range) from now on."""
        value = self._checked(celsius)
        self._advance()
        self._set_point = value

    async def read(self) -> TempReading:
        """:meth:`reading`, for the tool's async interface."""
        return self.reading()

    async def set_control_temperature(self, celsius: float) -> None:
        """:meth:`set_set_point`, for the tool's async interface."""
        self.set_set_point(celsius)
