"""Default implementations of the core services, one package per service.

Backstage's ``@backstage/backend-defaults`` in Python.
"""
