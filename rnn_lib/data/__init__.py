"""Data the course ships and builds: corpora and synthetic sequence tasks."""
