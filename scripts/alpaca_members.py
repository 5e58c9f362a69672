"""Derive nocturna's table of Alpaca members from the ASCOM OpenAPI description.

    python scripts/alpaca_members.py ../shared/reference/ascom/AlpacaDeviceAPI_v1.yaml \
        > src/nocturna/alpaca/members.json

For every device type (``common``: the members all types share) and member, per
HTTP method: the parameters other than ClientID/ClientTransactionID with their JSON
type, which of them are required, and the response schema's name. The server parses
requests from this table; ``tests/alpaca/test_members_table.py`` checks it is
current.
"""

from __future__ import annotations

import json
import sys
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


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as stream:
        spec = YAML(typ="safe").load(stream)
    json.dump(members(spec), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
