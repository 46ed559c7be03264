"""One engine: for every object of the demo and of the real-world corpus, sent over HTTPS as the API
server sends it, the rules the webhook denies, audits and warns on are those `stockade scan`
reports for the same object (scanned alone from a file), with the same exceptions file."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from stockade.admission.config import parse_admission_config
from stockade.admission.review import MAX_WARNINGS
from stockade.api import ScanOptions, collect, scan
from stockade.model.finding import Status
from stockade.model.inventory import Inventory
from stockade.sources.files import FileSource
from tests.admission.support import Webhook, review, serving, warned_rules
from tests.vendored import CORPUS, ROOT

DEMO = ROOT / "examples" / "demo"
EXCEPTIONS = DEMO / "exceptions.yaml"
DENIED = re.compile(r"\[([A-Z]+-\d{3}) [a-z0-9-]+\]")
ERRORED = re.compile(r"\[([A-Z]+-\d{3})\] could not evaluate")


def objects_as_sent() -> list[dict[str, Any]]:
    """Every object of the demo and the corpus, placed in its namespace as the API server places it."""
    collected = collect([FileSource((str(DEMO), str(CORPUS)))])
    sent = []
    for resource in collected.resources:
        raw = copy.deepcopy(dict(resource.raw))
        if Inventory([resource]).is_namespaced(resource):
            raw.setdefault("metadata", {})["namespace"] = resource.namespace or "default"
        sent.append(raw)
    return sent


OBJECTS = objects_as_sent()


def settings(mode: str) -> dict[str, Any]:
    return {
        "rules": ["all"],
        "modes": {"default": mode},
        "exceptions": [str(EXCEPTIONS)],
        "pod-security": {"enabled": False},
    }


@pytest.fixture(scope="module")
def webhooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Webhook]]:
    directory = tmp_path_factory.mktemp("parity")
    with (
        serving(directory / "enforce", settings("enforce")) as enforce,
        serving(directory / "audit", settings("audit")) as audit,
        serving(directory / "warn", settings("warn")) as warn,
    ):
        yield {"enforce": enforce, "audit": audit, "warn": warn}


def test_the_objects_cover_the_kinds_that_matter() -> None:
    kinds = {o["kind"] for o in OBJECTS}
    assert len(OBJECTS) > 400
    assert {"Pod", "Deployment", "DaemonSet", "StatefulSet", "CronJob", "Service", "ConfigMap", "Secret"} <= kinds


def test_the_webhook_reports_what_a_scan_of_the_same_object_reports(
    webhooks: dict[str, Webhook], tmp_path: Path
) -> None:
    rule_ids = sorted(parse_admission_config(settings("enforce")).rule_modes)
    options = ScanOptions(rules=rule_ids, waivers=str(EXCEPTIONS))
    mismatches: list[str] = []
    seen = {"denied": 0, "allowed": 0, "excepted": 0}
    for index, sent in enumerate(OBJECTS):
        path = tmp_path / f"object-{index}.json"
        path.write_bytes(orjson.dumps(sent))
        result = scan([FileSource((str(path),))], options)
        failed = {f.rule_id for f in result.findings if f.status is Status.FAIL}
        errored = {f.rule_id for f in result.findings if f.status is Status.ERROR}
        excepted = {f.rule_id for f in result.findings if f.status is Status.EXCEPTED}
        where = f"{sent['kind']}/{sent.get('metadata', {}).get('name')}"
        request = review(sent)
        enforce = webhooks["enforce"].admit(request)
        audit = webhooks["audit"].admit(request)
        warn = webhooks["warn"].admit(request)
        if result.errors:  # the scan could not read it: the webhook says it cannot be checked
            if enforce["allowed"] or enforce["status"]["code"] != 400:
                mismatches.append(f"{where}: scan input problem, webhook {enforce}")
            continue
        message = enforce.get("status", {}).get("message", "")
        if errored:
            got = set(ERRORED.findall(message))
            if enforce["allowed"] or enforce["status"]["code"] != 500 or got != errored:
                mismatches.append(f"{where}: scan errors {errored}, webhook {enforce}")
        elif set(DENIED.findall(message)) != failed or enforce["allowed"] == bool(failed):
            mismatches.append(f"{where}: scan {sorted(failed)}, denied {sorted(DENIED.findall(message))}")
        annotations = audit.get("auditAnnotations", {})
        audited = {key for key in annotations if re.fullmatch(r"[A-Z]+-\d{3}", key)}
        if audited != failed | errored:
            mismatches.append(f"{where}: scan {sorted(failed | errored)}, audited {sorted(audited)}")
        if excepted != set(filter(None, annotations.get("stockade-excepted", "").split(","))):
            mismatches.append(f"{where}: scan excepted {sorted(excepted)}, webhook {annotations}")
        warned = warned_rules(warn)
        complete = len(warn.get("warnings", [])) < MAX_WARNINGS
        if (warned != failed | errored) if complete else not warned <= failed | errored:
            mismatches.append(f"{where}: scan {sorted(failed | errored)}, warned {sorted(warned)}")
        seen["denied" if failed else "allowed"] += 1
        seen["excepted"] += bool(excepted)
    assert mismatches == []
    assert seen["denied"] > 100 and seen["allowed"] > 100 and seen["excepted"] >= 1
