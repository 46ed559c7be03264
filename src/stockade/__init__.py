"""Stockade: Kubernetes Security Posture Management.

The flow runs one way: ``sources`` turn files and clusters into raw objects, ``model`` indexes
them into an :class:`~stockade.model.inventory.Inventory`, the ``engine`` runs pure ``rules`` over
it and yields findings, and ``report`` turns findings into output.
"""

__version__ = "0.1.0"
