"""The eight non-imaging member tables end to end: nocturna's Alpaca server over HTTP."""

from __future__ import annotations

import httpx
import pytest
from alpaca.covercalibrator import CalibratorStatus, CoverCalibrator, CoverStatus
from alpaca.exceptions import InvalidValueException, NotImplementedException
from alpaca.observingconditions import ObservingConditions
from alpaca.rotator import Rotator
from alpaca.safetymonitor import SafetyMonitor
from alpaca.switch import Switch

from nocturna.alpaca.runner import start_in_thread
from nocturna.core.config import Config
from nocturna.devices.factory import build_devices
from nocturna.devices.sim.rotator import SimRotator

DEVICE_STATE = {
    "dome": ["AtHome", "AtPark", "Azimuth", "ShutterStatus", "Slewing"],
    "focuser": ["IsMoving", "Position", "Temperature"],
    "filterwheel": ["Position"],
    "rotator": ["IsMoving", "MechanicalPosition", "Position"],
    "safetymonitor": ["IsSafe"],
    "observingconditions": ["CloudCover", "DewPoint", "Humidity", "Pressure", "RainRate",
                            "SkyTemperature", "StarFWHM", "Temperature", "WindDirection",
                            "WindGust", "WindSpeed"],
    "covercalibrator": ["Brightness", "CalibratorState", "CalibratorChanging", "CoverState",
                        "CoverMoving"],
}


@pytest.fixture(scope="module")
def server():
    devices = build_devices(Config.load(None, load_local=False, environ={}), simulate=True)
    devices.rotators["rot0"] = SimRotator("rot0")
    with start_in_thread(devices) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=f"{server.url}/api/v1", timeout=10) as http:
        yield http


@pytest.fixture(scope="module")
def address(server) -> str:
    return server.url.removeprefix("http://")


def value(response: httpx.Response) -> object:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ErrorNumber"] == 0, body
    return body.get("Value")


def error(response: httpx.Response) -> tuple[int, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["ErrorNumber"], body["ErrorMessage"]


@pytest.mark.parametrize("kind", sorted(DEVICE_STATE))
def test_device_state_names_over_http(client, kind):
    items = value(client.get(f"/{kind}/0/devicestate"))
    assert [item["Name"] for item in items] == [*DEVICE_STATE[kind], "TimeStamp"]


def test_switch_device_state_lists_every_channel(client):
    names = [item["Name"] for item in value(client.get("/switch/0/devicestate"))]
    count = value(client.get("/switch/0/maxswitch"))
    assert names[0] == "GetSwitch0" and f"StateChangeComplete{count - 1}" in names
    assert len(names) == 3 * count + 1


def test_switch_value_round_trip_with_case_insensitive_query_keys(client):
    assert value(client.put("/switch/0/setswitchvalue", data={"Id": "8", "Value": "35"})) \
        is None
    assert value(client.get("/switch/0/getswitchvalue", params={"id": "8"})) == 35.0
    assert value(client.get("/switch/0/getswitch", params={"ID": "8"})) is True


def test_invalid_values_and_missing_capabilities_over_http(client):
    number, message = error(client.put("/dome/0/slewtoazimuth",
                                       data={"Azimuth": "400", "ClientTransactionID": "7"}))
    assert number == 0x401 and "400" in message
    assert error(client.get("/dome/0/altitude"))[0] == 0x400
    assert error(client.put("/filterwheel/0/position", data={"Position": "8"}))[0] == 0x401
    assert error(client.get("/switch/0/getswitchname", params={"Id": "10"}))[0] == 0x401
    assert error(client.get("/observingconditions/0/skyquality"))[0] == 0x400
    assert error(client.put("/covercalibrator/0/calibratoron",
                            data={"Brightness": "256"}))[0] == 0x401


def test_sensor_names_are_matched_without_regard_to_case_over_http(client):
    upper = value(client.get("/observingconditions/0/sensordescription",
                             params={"SensorName": "TEMPERATURE"}))
    assert upper == value(client.get("/observingconditions/0/sensordescription",
                                     params={"sensorname": "Temperature"}))
    number, _ = error(client.get("/observingconditions/0/sensordescription",
                                 params={"SensorName": "Visibility"}))
    assert number == 0x401


# ----------------------------------------------- alpyca, the official ASCOM client
def test_alpyca_switch_round_trip(address):
    switch = Switch(address, 0)
    assert switch.MaxSwitch == 10 and switch.GetSwitchName(8) == "dew heater"
    switch.SetSwitchValue(8, 20)
    assert switch.GetSwitchValue(8) == 20.0 and switch.GetSwitch(8) is True
    with pytest.raises(NotImplementedException):
        switch.SetAsync(0, True)
    with pytest.raises(InvalidValueException):
        switch.GetSwitch(99)


def test_alpyca_rotator_round_trip(address):
    rotator = Rotator(address, 0)
    assert rotator.CanReverse is True and rotator.StepSize == 0.01
    rotator.Sync(0.0)
    rotator.MoveAbsolute(10.0)
    assert rotator.TargetPosition == 10.0
    with pytest.raises(InvalidValueException):
        rotator.MoveAbsolute(360.0)


def test_alpyca_weather_safety_and_panel(address):
    station = ObservingConditions(address, 0)
    assert station.Temperature == pytest.approx(5.0)
    assert "temperature" in station.SensorDescription("temperature")
    with pytest.raises(NotImplementedException):
        _ = station.SkyQuality
    assert SafetyMonitor(address, 0).IsSafe is True
    panel = CoverCalibrator(address, 0)
    assert panel.CoverState == CoverStatus.Closed and panel.MaxBrightness == 255
    panel.CalibratorOn(100)
    assert panel.CalibratorState == CalibratorStatus.NotReady and panel.Brightness == 100
    panel.CalibratorOff()
    assert panel.CalibratorState == CalibratorStatus.Off
