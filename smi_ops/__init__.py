"""Operations: health checks, Prometheus metrics and structured logs (no models, no domain)."""
