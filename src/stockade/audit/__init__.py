"""Audit logs: reading audit.k8s.io Events, detections (AD-), the break-glass trail, the webhook backend."""
