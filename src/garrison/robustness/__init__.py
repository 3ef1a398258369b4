"""Model testing: evasion attacks, privacy audits, extraction and inversion, and hardening."""
