"""Training-data security: schema, drift, label issues, duplicates, PII, poisoning, provenance."""
