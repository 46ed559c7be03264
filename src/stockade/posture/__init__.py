"""The crawl / walk / run scorecard per area (``stockade posture``)."""

from stockade.posture.evaluate import AreaResult, Met, Scorecard, scorecard

__all__ = ["AreaResult", "Met", "Scorecard", "scorecard"]
