"""East-west traffic: who can reach whom under NetworkPolicies (``stockade network``)."""

from stockade.network.reach import Endpoint, Reachability, Side, Verdict, egress_allowed, egress_destinations

__all__ = ["Endpoint", "Reachability", "Side", "Verdict", "egress_allowed", "egress_destinations"]
