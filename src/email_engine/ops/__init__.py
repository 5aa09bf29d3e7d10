"""Operations: the scheduler and job endpoints, /health from every domain's checks, /metrics."""
