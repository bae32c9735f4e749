"""The catalog: projects (build), their characteristic content and key phrases, overlaps between
projects of different teams (pairs, overlaps), a project's documents and team pages."""
