#!/usr/bin/env bash
# Install QEMU (and cloud-localds, for NoCloud seeds) for the provisioner-qemu tests from Debian,
# only what is missing (idempotent).
# Called by .ci/run; needs root (or passwordless sudo) on Debian 12. About 6 s on a clean machine.
set -euo pipefail
if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1 &&
  command -v cloud-localds >/dev/null 2>&1; then
  echo "QEMU already installed: $(qemu-system-x86_64 --version | head -1)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends qemu-system-x86 qemu-utils cloud-image-utils >/dev/null
echo "QEMU installed: $(qemu-system-x86_64 --version | head -1)"
