"""Derive nocturna's table of Alpaca members from the ASCOM OpenAPI description, or
check that the shipped table still matches it (a maintenance script: no test reads the
ASCOM file, which is not part of the repository).

    python scripts/alpaca_members.py SPEC > src/nocturna/alpaca/members.json
    python scripts/alpaca_members.py --check SPEC

SPEC is ASCOM's ``AlpacaDeviceAPI_v1.yaml``. For every device type (``common``: the
members all types share) and member, per HTTP method, the table holds the parameters
other than ClientID/ClientTransactionID with their JSON type, which of them are
required, and the response schema's name. The server parses requests from this table
and describes itself from it (``nocturna.alpaca.openapi``); ``--check`` also compares
the ``Value`` schema nocturna's description gives each response with ASCOM's, and
exits 1 naming every difference. ``.ci/run`` runs the check when the file is present.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

TRANSACTION_KEYS = {"ClientID", "ClientTransactionID"}


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def _type(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    schema = _resolve(spec, schema)
    kind = schema.get("type")
    if kind is None and "enum" in schema:
        kind = "integer"
    if kind not in {"string", "number", "integer", "boolean"}:
        raise ValueError(f"unexpected parameter schema {schema}")
    return str(kind)


def _operation(spec: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, str] = {}
    required: list[str] = []
    for ref in op.get("parameters", []):
        param = _resolve(spec, ref)
        if param["in"] != "query" or param["name"] in TRANSACTION_KEYS:
            continue
        params[param["name"]] = _type(spec, param["schema"])
        if param.get("required"):
            required.append(param["name"])
    body = op.get("requestBody")
    if body:
        schema = _resolve(spec, body)["content"]["application/x-www-form-urlencoded"]["schema"]
        for part in schema.get("allOf", [schema]):
            part = _resolve(spec, part)
            for name, prop in part.get("properties", {}).items():
                if name not in TRANSACTION_KEYS:
                    params[name] = _type(spec, prop)
            required += [n for n in part.get("required", []) if n not in TRANSACTION_KEYS]
    response = op["responses"]["200"]["$ref"].rsplit("/", 1)[-1]
    return {"params": params, "required": required, "response": response}


def members(spec: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for path, ops in spec["paths"].items():
        device_type, _, member = path.strip("/").split("/")
        kind = "common" if device_type == "{device_type}" else device_type
        for method, op in ops.items():
            if method in ("get", "put"):
                entry = table.setdefault(kind, {}).setdefault(member, {})
                entry[method.upper()] = _operation(spec, op)
    return {kind: dict(sorted(entries.items())) for kind, entries in sorted(table.items())}


_IGNORED = {"description", "title", "example", "uniqueItems"}


def _normal(spec: dict[str, Any], node: Any) -> Any:
    """A schema with references resolved, prose dropped and a ``oneOf`` of constants
    (or a ``const``) written as a sorted ``enum``."""
    if isinstance(node, list):
        return [_normal(spec, item) for item in node]
    if not isinstance(node, dict):
        return node
    node = _resolve(spec, node)
    out = {key: _normal(spec, value) for key, value in node.items() if key not in _IGNORED}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    choices = out.get("oneOf")
    if choices and all(set(choice) == {"enum"} for choice in choices):
        out["enum"] = sorted(item for choice in out.pop("oneOf") for item in choice["enum"])
    return out


def _values(spec: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """Every ``Value`` schema a reply schema allows (one per ``oneOf`` branch)."""
    schema = _resolve(spec, schema)
    found: list[Any] = []
    for part in schema.get("allOf", [schema]):
        part = _resolve(spec, part)
        for branch in part.get("oneOf", [part]):
            value = branch.get("properties", {}).get("Value")
            if value is not None:
                value = _normal(spec, value)
                found += value["oneOf"] if set(value) == {"oneOf"} else [value]
    return found


def value_differences(spec: dict[str, Any]) -> list[str]:
    """The responses whose ``Value`` nocturna describes otherwise than ``spec``."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from nocturna.alpaca.members import KINDS
    from nocturna.alpaca.openapi import document, response_schema

    ours_doc = document({kind: [0] for kind in KINDS})
    problems = []
    for name, entry in spec["components"]["responses"].items():
        content = entry.get("content", {}).get("application/json")
        if content is None:
            continue
        theirs = _values(spec, content["schema"])
        try:
            ours = _values(ours_doc, response_schema(name))
        except KeyError:
            problems.append(f"{name}: not described by nocturna.alpaca.openapi.VALUES")
            continue
        if ours != theirs:
            problems.append(f"{name}: nocturna says {ours}, ASCOM says {theirs}")
    return problems


def check(spec: dict[str, Any]) -> list[str]:
    """Every way the shipped table and descriptions differ from ``spec``."""
    table_path = Path(__file__).resolve().parents[1] / "src/nocturna/alpaca/members.json"
    shipped = json.loads(table_path.read_text(encoding="utf-8"))
    problems = []
    expected = members(spec)
    for kind in sorted(set(expected) | set(shipped)):
        theirs, ours = expected.get(kind, {}), shipped.get(kind, {})
        for member in sorted(set(theirs) | set(ours)):
            if theirs.get(member) != ours.get(member):
                problems.append(f"{kind}.{member}: members.json has {ours.get(member)}, "
                                f"ASCOM has {theirs.get(member)}")
    return problems + value_differences(spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="ASCOM's AlpacaDeviceAPI_v1.yaml")
    parser.add_argument("--check", action="store_true",
                        help="compare the shipped table with SPEC instead of printing one")
    args = parser.parse_args()
    try:
        spec = YAML(typ="safe").load(args.spec.read_text(encoding="utf-8"))
    except OSError as exc:
        parser.exit(2, f"alpaca_members: cannot read {args.spec}: {exc.strerror}\n")
    if not args.check:
        json.dump(members(spec), sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
        return
    problems = check(spec)
    for problem in problems:
        print(f"alpaca_members: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"alpaca_members: members.json and the OpenAPI Value schemas match {args.spec}")


if __name__ == "__main__":
    main()
