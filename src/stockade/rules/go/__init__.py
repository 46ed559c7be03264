"""GO: GitOps: changes that reach the cluster without going through git."""
