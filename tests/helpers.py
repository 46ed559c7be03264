"""Test helpers: build inventories from YAML text without touching the file source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from stockade.model.inventory import Inventory
from stockade.model.resource import Origin, Resource, resource_from_raw


def resources_from_yaml(text: str, file: str = "test.yaml") -> list[Resource]:
    out = []
    for index, raw in enumerate(yaml.safe_load_all(text)):
        if raw is None:
            continue
        resource = resource_from_raw(raw, Origin(file, index, 1))
        assert isinstance(resource, Resource), resource
        out.append(resource)
    return out


def inventory_from_yaml(text: str) -> Inventory:
    return Inventory(resources_from_yaml(text))


def inventory_from_raw(raws: Iterable[Mapping[str, Any]]) -> Inventory:
    out = []
    for index, raw in enumerate(raws):
        resource = resource_from_raw(raw, Origin("test.yaml", index, 1))
        assert isinstance(resource, Resource), resource
        out.append(resource)
    return Inventory(out)
