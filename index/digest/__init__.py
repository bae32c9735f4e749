"""The weekly digest's content, per ISO week and view, computed from the store."""
