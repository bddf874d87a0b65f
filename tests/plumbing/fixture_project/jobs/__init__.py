"""Background jobs, run by a queue worker."""
