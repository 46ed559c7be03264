"""SA: service accounts — which identity a workload runs as, and whether it carries an API token."""
