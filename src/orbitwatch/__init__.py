"""orbitwatch: coalition space domain awareness.

The public API lives in each package (``orbitwatch.formats``, ``orbitwatch.store``, ...);
this module only carries the version so that importing it stays cheap for the CLI and workers.
"""

__version__ = "0.1.0"
