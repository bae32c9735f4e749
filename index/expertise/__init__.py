"""Expertise: who knows what. Experts for a question (document and project votes), module
builders for a part of a repository, person profiles."""
