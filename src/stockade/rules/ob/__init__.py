"""OB: logging and monitoring: the audit policy's content, and agents that ship logs and metrics."""
