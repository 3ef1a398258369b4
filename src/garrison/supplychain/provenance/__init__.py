"""Provenance: manifests of digests, signatures, attestations, approvals and the ML-BOM."""
