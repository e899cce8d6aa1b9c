#!/usr/bin/env bash
# Create .venv and install Fengqiao with its dependencies (idempotent). Used by both README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras=${1:-}
stamp=".venv/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  touch "$stamp"
fi

# The process designer (流程设计) runs bpmn-js in the browser; web/designer/package-lock.json pins it
# and Flask serves its dist folders. Without Node.js everything else still works.
designer_stamp="web/designer/node_modules/.installed"
if [ ! -f "$designer_stamp" ] || [ web/designer/package-lock.json -nt "$designer_stamp" ]; then
  if command -v npm >/dev/null 2>&1; then
    (cd web/designer && npm ci --no-audit --no-fund --loglevel=error) && touch "$designer_stamp" \
      || echo "npm ci failed in web/designer: the process designer (流程设计) will be unavailable"
  else
    echo "npm not found: the process designer (流程设计) needs Node.js (npm); install it and rerun scripts/setup.sh." \
         "The rest of Fengqiao works without it."
  fi
fi

# Documents (文书) print to PDF through WeasyPrint, which needs Pango and a Chinese font; without a
# font every character prints as a box. Install them when we can; never fail the setup over it.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=""
  if [ -z "$(fc-list :lang=zh 2>/dev/null || true)" ]; then
    missing="fonts-wqy-zenhei"
  fi
  if ! ldconfig -p 2>/dev/null | grep "libpangoft2-1.0.so.0" >/dev/null; then  # not -q: SIGPIPE under pipefail
    missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
  fi
  if [ -n "$missing" ]; then
    echo "installing for PDF documents:$missing"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
      || echo "could not install$missing: PDF documents will be unavailable (the HTML documents still print)"
  fi
fi
