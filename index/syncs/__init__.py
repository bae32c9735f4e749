"""Cross-team sync planning: topics, groups and slots (pure functions over plain data)."""
