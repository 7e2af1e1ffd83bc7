"""Route modules: each holds one resource and declares ``router``."""
