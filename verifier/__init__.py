"""The Tessera verifier service: OpenID4VP 1.0 with DCQL, a trust registry, status checks, explainable verdicts."""
