"""Tests of east-west reachability (`stockade network`)."""
