"""The config before torch: schemas (schemas.py), allowed values (choices.py), checks (checks.py), and
the one way a job's config is composed (compose.py). Imports nothing of ganrun but errors."""
