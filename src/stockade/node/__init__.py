"""Long-running work on a node: `stockade node watch` (file-integrity monitoring of the key files)."""
