"""Tests of the red-team harness."""
