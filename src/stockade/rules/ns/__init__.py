"""NS: namespaces — application objects left in the default namespace."""
