"""Testing utilities for plugin authors: a test backend, mock services, a pytest plugin."""
