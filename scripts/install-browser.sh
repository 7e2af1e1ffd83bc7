#!/usr/bin/env bash
# Installs Debian's chromium (the browser the web UI's tests drive headless) when it is missing.
# Safe to rerun: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: /usr/bin/chromium missing and apt-get is not available; install Chromium" \
       "with your system's package manager" >&2
  exit 1
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-browser: installing Debian's chromium"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
