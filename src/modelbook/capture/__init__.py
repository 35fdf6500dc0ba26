"""Turning notebook objects into storable things: models, datasets, environment, code."""
