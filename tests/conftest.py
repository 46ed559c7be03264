"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Property tests check behaviour, not speed: on a loaded 2-core CI machine a per-example deadline
# only makes them flaky. Speed is measured in benchmarks/.
settings.register_profile("stockade", deadline=None)
settings.load_profile("stockade")
