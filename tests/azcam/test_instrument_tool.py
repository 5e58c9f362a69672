"""The azcam instrument tool: filters, focus, comparison lamps, wavelength, header."""

from __future__ import annotations

import asyncio

import pytest

from nocturna.azcam.remote import remote_methods
from nocturna.azcam.tools.instrument import InstrumentTool, SimLamp, SwitchLamp
from nocturna.core.clock import SimClock, use_clock
from nocturna.core.config import Config
from nocturna.core.errors import (
    InvalidOperationError,
    InvalidValueError,
    NotImplementedByDeviceError,
)
from nocturna.core.storage import Storage
from nocturna.devices.sim.camera import SimCamera, SimCameraModel
from nocturna.devices.sim.filterwheel import SimFilterWheel
from nocturna.devices.sim.focuser import SimFocuser
from nocturna.devices.sim.spectrograph import SimSpectrograph
from nocturna.devices.sim.switch import ChannelSpec, SimSwitch
from nocturna.instrument.frame import FrameContext
from nocturna.instrument.instrument import Instrument

NIGHT = "2026-12-15T10:00Z"


@pytest.fixture(autouse=True)
def clock():
    clock = SimClock(NIGHT, speed=2000)
    with use_clock(clock):
        yield clock


async def make_instrument(tmp_path, *, spectrograph=False, wheel=True, focuser=True):
    site = Config.load(environ={}).model.site
    foc = SimFocuser(position=30_000, temp_comp_steps_per_c=None) if focuser else None
    filters = SimFilterWheel("fw0") if wheel else None
    spec = SimSpectrograph("spec0") if spectrograph else None
    camera = SimCamera("cam0", model=SimCameraModel(width=64, height=64), site=site,
                       focuser=foc, filterwheel=filters)
    for device in (camera, foc, filters, spec):
        if device is not None:
            await device.connect()
    storage = Storage.open(data_dir=tmp_path / "data")
    context = FrameContext(camera=camera, site=site, focuser=foc, filterwheel=filters)
    return Instrument(camera, storage=storage, data_dir=tmp_path / "data", context=context,
                      spectrograph=spec)


@pytest.fixture
async def switch():
    switch = SimSwitch("sw0", channels=[ChannelSpec("HeNeAr"), ChannelSpec("ThAr"),
                                        ChannelSpec("Quartz")])
    await switch.connect()
    return switch


@pytest.fixture
async def tool(tmp_path, switch):
    instrument = await make_instrument(tmp_path)
    lamps = {"HeNeAr": SwitchLamp(switch, 0), "ThAr": SwitchLamp(switch, "thar"),
             "Quartz": SwitchLamp(switch, 2)}
    yield InstrumentTool(instrument, lamps)
    instrument.storage.close()


async def lit(switch):
    state = await switch.state()
    return {name for i, name in enumerate(state.names) if state.is_on(i)}


async def test_the_azcam_methods_are_remote(tool):
    names = set(remote_methods(tool))
    assert {"get_filters", "get_filter", "set_filter", "get_focus", "set_focus",
            "get_all_comps", "get_comps", "set_comps", "comps_on", "comps_off", "comps_delay",
            "get_wavelength", "set_wavelength", "get_wavelengths"} <= names
    assert not {"is_comp", "lamps_lit", "header_cards"} & names
    assert tool.name == "instrument"


async def test_filters_are_listed_and_set_with_their_focus_offsets(tool):
    assert await tool.get_filters() == ["L", "R", "G", "B", "Ha", "OIII", "SII", "Dark"]
    assert await tool.get_filter() == "L"
    before = await tool.get_focus()
    await tool.set_filter("Ha")
    assert await tool.get_filter() == "Ha"
    assert await tool.get_focus() == before + 40  # Ha's focus offset over L's
    await tool.set_filter("2")  # a slot number
    assert await tool.get_filter() == "G"
    assert await tool.get_focus() == before + 10


async def test_unknown_filters_and_mechanisms_are_refused(tool):
    with pytest.raises(InvalidValueError, match=r"no filter named 'Z' \(filters: L, R"):
        await tool.set_filter("Z")
    with pytest.raises(InvalidValueError, match="filter_id 1"):
        await tool.get_filters(filter_id=1)
    assert await tool.get_filter() == "L"


async def test_focus_absolute_and_step(tool):
    await tool.set_focus(31_000)
    assert await tool.get_focus() == 31_000
    await tool.set_focus(-250, focus_type="step")
    assert await tool.get_focus() == 30_750
    with pytest.raises(InvalidValueError, match="focus_type 'relative'"):
        await tool.set_focus(10, focus_type="relative")
    with pytest.raises(InvalidValueError, match="focus_position nan"):
        await tool.set_focus(float("nan"))
    with pytest.raises(InvalidValueError, match="focus_id 2"):
        await tool.get_focus(focus_id=2)


async def test_no_focuser_is_a_clear_error(tmp_path):
    instrument = await make_instrument(tmp_path, focuser=False)
    tool = InstrumentTool(instrument)
    with pytest.raises(InvalidOperationError, match="has no focuser"):
        await tool.get_focus()
    instrument.storage.close()


async def test_comps_are_selected_switched_on_and_off(tool, switch):
    assert tool.get_all_comps() == ["HeNeAr", "ThAr", "Quartz"]
    tool.set_comps("henear, ThAr")
    assert tool.get_comps() == ["HeNeAr", "ThAr"]
    await tool.comps_on()
    assert await lit(switch) == {"HeNeAr", "ThAr"}
    await tool.comps_off()
    assert await lit(switch) == set()
    tool.set_comps("Quartz")
    assert tool.get_comps() == ["Quartz"]
    tool.set_comps("")
    assert tool.get_comps() == []


async def test_unknown_comps_are_refused_listing_the_known_ones(tool):
    tool.set_comps("ThAr")
    with pytest.raises(InvalidValueError,
                       match=r"no comparison lamp named 'Neon' \(lamps: HeNeAr, ThAr, Quartz\)"):
        tool.set_comps("ThAr Neon")
    assert tool.get_comps() == ["ThAr"]


async def test_comps_delay_sleeps_on_the_clock(tool, clock):
    start = clock.now()
    await tool.comps_delay(30)
    assert (clock.now() - start).total_seconds() >= 30
    with pytest.raises(InvalidValueError, match="delay_time -1"):
        await tool.comps_delay(-1)


async def test_is_comp(tool):
    assert tool.is_comp("comp") and tool.is_comp("COMP")
    assert tool.is_comp("thar") and tool.is_comp("Quartz")
    assert not tool.is_comp("object") and not tool.is_comp("flat")


async def test_lamps_lit_lights_the_selection_only_inside_the_block(tool, switch):
    tool.set_comps("HeNeAr ThAr")
    async with tool.lamps_lit("comp") as names:
        assert names == ["HeNeAr", "ThAr"]
        assert await lit(switch) == {"HeNeAr", "ThAr"}
        assert (await tool.header_cards())["LAMPS"][0] == "HeNeAr,ThAr"
    assert await lit(switch) == set()
    assert (await tool.header_cards())["LAMPS"][0] == "none"


async def test_lamps_lit_by_the_lamp_named_as_image_type(tool, switch):
    tool.set_comps("HeNeAr")
    async with tool.lamps_lit("thar") as names:
        assert names == ["ThAr"]
        assert await lit(switch) == {"ThAr"}
    assert await lit(switch) == set()


async def test_lamps_go_off_after_an_error_or_a_cancellation(tool, switch):
    tool.set_comps("Quartz")
    with pytest.raises(RuntimeError):
        async with tool.lamps_lit():
            raise RuntimeError("readout failed")
    assert await lit(switch) == set()

    entered = asyncio.Event()

    async def expose():
        async with tool.lamps_lit():
            entered.set()
            await asyncio.sleep(3600)

    task = asyncio.ensure_future(expose())
    await entered.wait()
    assert await lit(switch) == {"Quartz"}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await lit(switch) == set()


async def test_a_comparison_without_selected_lamps_is_refused(tool):
    with pytest.raises(InvalidOperationError, match="none is selected"):
        async with tool.lamps_lit("comp"):
            pass


async def test_sim_lamps_record_when_they_were_on(tmp_path, clock):
    instrument = await make_instrument(tmp_path, wheel=False)
    lamp = SimLamp()
    tool = InstrumentTool(instrument, {"Ne": lamp}, comp_warmup_s=5.0)
    start = clock.now()
    async with tool.lamps_lit("Ne"):
        assert lamp.on
        assert (clock.now() - start).total_seconds() >= 5.0  # warmed up first
    assert not lamp.on
    assert [on for _, on in lamp.history] == [True, False]
    with pytest.raises(InvalidOperationError, match="has no filters"):
        await tool.get_filter()
    instrument.storage.close()


async def test_wavelength_needs_a_spectrograph(tool):
    for call in (tool.get_wavelength(), tool.set_wavelength("500"), tool.get_wavelengths()):
        with pytest.raises(NotImplementedByDeviceError, match="no spectrograph grating"):
            await call


async def test_wavelength_selects_the_spectrograph_grating(tmp_path):
    instrument = await make_instrument(tmp_path, spectrograph=True)
    tool = InstrumentTool(instrument)
    gratings = await tool.get_wavelengths()
    assert len(gratings) >= 2
    await tool.set_wavelength(gratings[1])
    assert await tool.get_wavelength() == gratings[1]
    await tool.set_wavelength("0")
    assert await tool.get_wavelength() == gratings[0]
    with pytest.raises(InvalidValueError, match="no grating named"):
        await tool.set_wavelength("nope")
    assert (await tool.header_cards())["GRATING"][0] == gratings[0]
    instrument.storage.close()


async def test_header_cards(tool):
    await tool.set_filter("R")
    cards = await tool.header_cards()
    assert cards["FILTER"][0] == "R"
    assert cards["INSFOCUS"][0] == await tool.get_focus()
    assert cards["LAMPS"][0] == "none"
    assert "GRATING" not in cards


def test_lamp_names_must_be_unique_and_not_comp(tmp_path):
    with pytest.raises(InvalidValueError, match="unique"):
        InstrumentTool(object(), {"Ne": SimLamp(), "NE": SimLamp()})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="unique"):
        InstrumentTool(object(), {"comp": SimLamp()})  # type: ignore[arg-type]
