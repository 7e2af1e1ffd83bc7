"""Space-Track- and CelesTrak-compatible endpoints (docs/interop.md)."""
