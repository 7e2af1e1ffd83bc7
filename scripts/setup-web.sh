#!/usr/bin/env bash
# Installs the web UI's front-end packages (CesiumJS) from npm into the package's static folder.
# Safe to rerun; a no-op until the web UI lands.
set -euo pipefail
exit 0
