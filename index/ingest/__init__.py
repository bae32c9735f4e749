"""Ingest: connector streams into the index (chunking, embedding in windows, short commits)."""
