"""Pytest fixtures that start fresh sandbox servers on free ports (filled in by the sandbox work)."""
