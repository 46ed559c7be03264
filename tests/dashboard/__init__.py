"""Tests of ``stockade dashboard``: pages over HTTP, security, the trend, the CLI, and a browser."""
