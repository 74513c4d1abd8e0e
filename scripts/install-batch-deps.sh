#!/usr/bin/env bash
# Installs the Dask batch job's Python dependencies (batch/requirements.txt,
# exact versions from PyPI) into a virtual environment, by default
# target/batch-venv, where `cargo test` (crates/unspin-cli/tests/batch_dask.rs)
# looks for it. Idempotent: does nothing when the environment already matches.
# Needs python3 with venv and pip.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${UNSPIN_BATCH_VENV:-target/batch-venv}
req=batch/requirements.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)

if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
    echo "batch job dependencies already installed in $venv"
    exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
"$venv/bin/python" -c "import dask, distributed; print('installed dask', dask.__version__, 'and distributed', distributed.__version__, 'in $venv')"
echo "$want" > "$stamp"
