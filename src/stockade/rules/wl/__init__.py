"""WL: workload hardening — what a container may do to its node and to itself, and its resources."""
