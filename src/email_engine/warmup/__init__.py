"""Warmup: per-IP volume curves, daily gates on the results, traffic holds and campaign failover."""
