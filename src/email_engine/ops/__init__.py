"""Cross-cutting operations: rate limits, health, metrics, scheduler and jobs."""
