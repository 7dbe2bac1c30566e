"""Interfaces (``typing.Protocol``) of Backstage's core services, one module per service."""
