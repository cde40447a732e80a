"""Minimal example service."""
