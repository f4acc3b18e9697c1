"""What the worker's web port serves: Prometheus's /metrics, the JSON API and a health route."""
