"""Regenerate the shipped demo catalogue under src/orbitwatch/data/demo/ (deterministic)."""

from orbitwatch.demo.generate import write_demo_files

if __name__ == "__main__":
    for path in write_demo_files():
        print(path, path.stat().st_size, "bytes")
