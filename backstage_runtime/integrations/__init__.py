"""Bridges between backstage-runtime and other frameworks."""
