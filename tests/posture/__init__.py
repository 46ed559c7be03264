"""Tests of the crawl / walk / run scorecard (`stockade posture`)."""
