"""Tests of garrison.llm."""
