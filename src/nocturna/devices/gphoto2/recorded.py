"""Config widgets as real Canon cameras report them through libgphoto2.

Each block is copied verbatim from a ``gphoto2 --list-all-config`` or ``--get-config``
listing that a camera owner posted publicly; ``RECORDED`` names the origin of each.
No value here is made up (only trailing spaces are trimmed): the stand-in
(:mod:`.standin`) replays them, so the driver's Canon path (eosremoterelease bulb,
iso, imageformat, ownername, serial number) meets what a real EOS says. The blocks
come from several Canon bodies (no single public listing held all of them); the
camera each came from is named with it.

:func:`parse_listing` reads the format (``/main/<section>/<name>``, ``Label:``,
``Readonly:``, ``Type:``, ``Current:``, ``Choice: <n> <text>``, ``END``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nocturna.core.errors import InvalidValueError
from nocturna.devices.gphoto2.layer import ConfigValue


@dataclass(frozen=True)
class RecordedListing:
    camera: str
    origin: str  # where the listing was published
    text: str


RECORDED: tuple[RecordedListing, ...] = (
    RecordedListing(
        "Canon EOS M100 (gphoto2 2.5.17)",
        "https://github.com/gphoto/gphoto2/issues/149 (gabrielstuff, 2018-07-06)",
        """\
/main/actions/eosremoterelease
Label: Canon EOS Remote Release
Readonly: 0
Type: RADIO
Current: None
Choice: 0 None
Choice: 1 Press Half
Choice: 2 Press Full
Choice: 3 Release Half
Choice: 4 Release Full
Choice: 5 Immediate
Choice: 6 Press 1
Choice: 7 Press 2
Choice: 8 Press 3
Choice: 9 Release 1
Choice: 10 Release 2
Choice: 11 Release 3
END
"""),
    RecordedListing(
        "Canon PowerShot SX60HS (Canon EOS PTP path)",
        "https://github.com/gphoto/gphoto2/issues/437 (cybermaus, 2021-07-10)",
        """\
/main/settings/ownername
Label: Owner Name
Readonly: 0
Type: TEXT
Current:
END
/main/settings/capturetarget
Label: Capture Target
Readonly: 0
Type: RADIO
Current: Internal RAM
Choice: 0 Internal RAM
Choice: 1 Memory card
END
/main/status/serialnumber
Label: Serial Number
Readonly: 0
Type: TEXT
Current: ABAEF5B71140D804CB09C2A9F28C4844
END
"""),
    RecordedListing(
        "Canon EOS R5 Mark II",
        "https://github.com/gphoto/libgphoto2/issues/1028 (karlkopf)",
        """\
/main/imgsettings/iso
Label: ISO Speed
Readonly: 0
Type: RADIO
Current: 16000
Choice: 0 Auto
Choice: 1 100
Choice: 2 125
Choice: 3 160
Choice: 4 200
Choice: 5 250
Choice: 6 320
Choice: 7 400
Choice: 8 500
Choice: 9 640
Choice: 10 800
Choice: 11 1000
Choice: 12 1250
Choice: 13 1600
Choice: 14 2000
Choice: 15 2500
Choice: 16 3200
Choice: 17 4000
Choice: 18 5000
Choice: 19 6400
Choice: 20 8000
Choice: 21 10000
Choice: 22 12800
Choice: 23 16000
Choice: 24 20000
Choice: 25 25600
Choice: 26 32000
Choice: 27 40000
Choice: 28 51200
END
"""),
    RecordedListing(
        "Canon EOS M10 (libgphoto2 2.5.31)",
        "https://github.com/gphoto/libgphoto2/issues/1060 (msmeissn, 2024-11-21)",
        """\
/main/imgsettings/imageformat
Label: Image Format
Readonly: 0
Type: RADIO
Current: Large Normal JPEG
Choice: 0 Large Normal JPEG
END
"""),
    RecordedListing(
        # The PR shows the widget's listing without its path; it names the widget
        # "imageformat2" and adds it beside imageformat (hence /main/imgsettings).
        "Canon EOS 5Ds (libgphoto2 imageformat2 widget)",
        "https://github.com/gphoto/libgphoto2/pull/1031 (axxel, 2024-09-27)",
        """\
/main/imgsettings/imageformat2
Label: Image Format 2
Readonly: 0
Type: RADIO
Current: mRAW + S3
Choice: 0 L
Choice: 1 cL
Choice: 2 M1
Choice: 3 cM1
Choice: 4 M2
Choice: 5 cM2
Choice: 6 S1
Choice: 7 cS1
Choice: 8 S2
Choice: 9 S3
Choice: 10 RAW + L
Choice: 11 RAW + cL
Choice: 12 RAW + M1
Choice: 13 RAW + cM1
Choice: 14 RAW + M2
Choice: 15 RAW + cM2
Choice: 16 RAW + S1
Choice: 17 RAW + cS1
Choice: 18 RAW + S2
Choice: 19 RAW + S3
Choice: 20 mRAW + L
Choice: 21 mRAW + cL
Choice: 22 mRAW + M1
Choice: 23 mRAW + cM1
Choice: 24 mRAW + M2
Choice: 25 mRAW + cM2
Choice: 26 mRAW + S1
Choice: 27 mRAW + cS1
Choice: 28 mRAW + S2
Choice: 29 mRAW + S3
Choice: 30 sRAW + L
Choice: 31 sRAW + cL
Choice: 32 sRAW + M1
Choice: 33 sRAW + cM1
Choice: 34 sRAW + M2
Choice: 35 sRAW + cM2
Choice: 36 sRAW + S1
Choice: 37 sRAW + cS1
Choice: 38 sRAW + S2
Choice: 39 sRAW + S3
Choice: 40 RAW
Choice: 41 mRAW
Choice: 42 sRAW
END
"""),
)


def parse_listing(text: str) -> dict[str, ConfigValue]:
    """The widgets of a ``--list-all-config`` listing, by name (InvalidValueError naming
    the line for anything else)."""
    widgets: dict[str, ConfigValue] = {}
    fields: dict[str, str] = {}
    choices: list[str] = []
    path: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("/"):
            path, fields, choices = line.strip(), {}, []
        elif path is None:
            raise InvalidValueError(f"config listing line {number}: {line!r} is outside "
                                    "a widget")
        elif line.strip() == "END":
            name = path.rsplit("/", 1)[-1]
            widgets[name] = ConfigValue(
                name=name, label=fields.get("Label", ""), type=fields.get("Type", ""),
                readonly=fields.get("Readonly", "0") == "1",
                value=fields.get("Current", ""), choices=tuple(choices))
            path = None
        elif line.startswith("Choice: "):
            _, _, text_ = line[len("Choice: "):].partition(" ")
            choices.append(text_)
        elif ": " in line or line.endswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value
        else:
            raise InvalidValueError(f"config listing line {number}: {line!r} is not a "
                                    "widget field")
    if path is not None:
        raise InvalidValueError(f"config listing: widget {path} has no END")
    return widgets


def recorded_canon_config() -> dict[str, ConfigValue]:
    """Every recorded widget, by name."""
    widgets: dict[str, ConfigValue] = {}
    for listing in RECORDED:
        widgets.update(parse_listing(listing.text))
    return widgets
