"""Tests of `stockade drift`: git against the fake API server's objects and snapshots."""
