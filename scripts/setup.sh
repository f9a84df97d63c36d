#!/usr/bin/env bash
# Installs what is missing for ledgerbot on a Debian machine (as root), idempotently:
# system packages first, then a .venv with the pinned Python dependencies. A second run only
# checks and returns in a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(chromium tesseract-ocr tesseract-ocr-eng tesseract-ocr-deu tesseract-ocr-fra
              tesseract-ocr-osd poppler-utils dovecot-imapd fonts-dejavu-core
              fonts-liberation2 fonts-crosextra-carlito fonts-crosextra-caladea)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

log() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# npm fetches Tryton's web client once (make demo TARGET=tryton, tests/tryton); any npm will do,
# so a Node.js installed another way (which ships its own npm) is not replaced.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
  log "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # The Debian package starts dovecot under systemd where there is one; tests run their own.
  $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

stamp=.venv/.ledgerbot-installed
want=$(cat pyproject.toml sandbox/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/ledgerbot ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
log "installing Python dependencies (first run takes a few minutes; log in .venv/setup.log)"
pip_install() {
  .venv/bin/python -m pip install --disable-pip-version-check -q "$@" >>.venv/setup.log 2>&1 || {
    tail -n 30 .venv/setup.log >&2; log "pip install $* failed"; exit 1; }
}
# torch first and pinned: 2.13.0 is the CPU build on this machine's local index; an unpinned
# torch (asked for by transformers) would pull a multi-GB CUDA build.
pip_install "torch==2.13.0"
pip_install -e ".[dev]" -e ./sandbox
.venv/bin/python -c "import torch, transformers, tesserocr, ledgerbot" || { log "dependency install failed"; exit 1; }
echo "$want" > "$stamp"
log "ready"
