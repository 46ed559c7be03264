"""Command line: thin wrappers that parse options, call sources → engine → reports, and exit."""
