#!/usr/bin/env bash
# Install Debian's Chromium for the dashboard's browser tests (test/browser), only when missing
# (idempotent). Playwright's own browser download cannot reach its host; playwright-core drives
# this one through `executablePath`. Called by .ci/run; needs root (or passwordless sudo) on Debian 12.
set -euo pipefail
if [ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ]; then
  echo "Chromium already installed: $(/usr/lib/chromium/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
# Fonts: DejaVu renders text, dashes and check marks in the screenshots.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "Chromium installed: $(/usr/lib/chromium/chromium --version 2>/dev/null || true)"
