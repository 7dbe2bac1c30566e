"""backstage-runtime: the Backstage backend system in Python."""
