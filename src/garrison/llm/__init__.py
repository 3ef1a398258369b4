"""LLM applications: input/output guards and the red-team harness."""
