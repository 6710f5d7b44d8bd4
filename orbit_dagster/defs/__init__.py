"""Dagster objects only, one folder per domain; `load_from_defs_folder` imports every module."""
