"""Local fakes of outside providers, for end-to-end tests and benchmarks (no network)."""
