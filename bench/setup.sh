#!/usr/bin/env bash
# Install IBM's network-config-analyzer (NCA) 2.1.0 in its own venv, apart from podwall's.
# Idempotent: does nothing when /work/main/.venv-bench already has a working `nca`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv-bench"
NCA_VERSION="2.1.0"

if [[ -x "${VENV}/bin/nca" ]] \
    && "${VENV}/bin/python" -m pip show network-config-analyzer 2>/dev/null \
        | grep -qx "Version: ${NCA_VERSION}"; then
    echo "setup.sh: ${VENV} already has network-config-analyzer ${NCA_VERSION}" >&2
    exit 0
fi

echo "setup.sh: creating ${VENV}" >&2
python3 -m venv "${VENV}"
"${VENV}/bin/python" -m pip install --quiet --upgrade pip
"${VENV}/bin/python" -m pip install --quiet "network-config-analyzer==${NCA_VERSION}"
"${VENV}/bin/nca" --help >/dev/null
echo "setup.sh: installed network-config-analyzer ${NCA_VERSION} in ${VENV}" >&2
