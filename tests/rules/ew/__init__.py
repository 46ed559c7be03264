"""Tests of the EW (service mesh) rules beyond their fixtures."""
