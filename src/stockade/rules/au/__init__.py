"""AU: authentication: who can log in, with what, and credentials that never expire."""
