"""Background jobs for `serve`: the digest and sync schedules (APScheduler)."""
