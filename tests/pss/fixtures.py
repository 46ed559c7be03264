"""Loads the upstream Pod Security Admission fixtures vendored in tests/data/pod-security."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml_rs

from stockade.pss import Level
from tests.vendored import POD_SECURITY

CONFORMANCE_ROOT = POD_SECURITY

# At the restricted level a stricter check replaces a baseline one from a given minor on; a fail
# fixture named after the baseline check is then denied by the replacement (PSA OverrideCheckIDs).
OVERRIDDEN_BY: dict[str, tuple[str, int]] = {
    "hostpathvolumes": ("restrictedvolumes", 0),
    "seccompprofile_baseline": ("seccompprofile_restricted", 19),
    "capabilities_baseline": ("capabilities_restricted", 22),
    "procmount": ("procmount_restricted", 35),
}


@dataclass(frozen=True)
class Fixture:
    path: Path
    level: Level
    minor: int
    verdict: str  # "pass" or "fail"

    @property
    def id(self) -> str:
        return f"{self.level}/v1.{self.minor}/{self.verdict}/{self.path.stem}"

    @property
    def version(self) -> str:
        return f"v1.{self.minor}"

    def expected_check(self) -> str:
        """The lower-cased check id that must deny a fail fixture at its level and version."""
        stem = self.path.stem.rstrip("0123456789")
        if self.level == "restricted" and stem in OVERRIDDEN_BY:
            replacement, since = OVERRIDDEN_BY[stem]
            if self.minor >= since:
                return replacement
        return stem

    def load(self) -> dict[str, Any]:
        pod = yaml_rs.loads(self.path.read_text(encoding="utf-8"))
        assert isinstance(pod, dict), self.path
        assert pod.get("kind") == "Pod", self.path
        return pod


def discover() -> list[Fixture]:
    found = []
    for path in sorted(CONFORMANCE_ROOT.glob("*/v1.*/*/*.yaml")):
        verdict, version, level = path.parts[-2], path.parts[-3], path.parts[-4]
        match = re.fullmatch(r"v1\.(\d+)", version)
        assert match is not None, path
        assert level in ("baseline", "restricted"), path
        found.append(Fixture(path, cast(Level, level), int(match.group(1)), verdict))
    assert len(found) > 3000, f"expected the upstream fixture tree under {CONFORMANCE_ROOT}"
    return found
