#!/usr/bin/env bash
# Builds the `unspin` Python module (crates/unspin-python, PyO3) and installs
# it into a virtual environment, by default target/python-venv, where
# `cargo test` (crates/unspin-python/tests/python_api.rs) runs its Python tests.
# maturin comes from PyPI at the pinned version; the wheel is a release
# build (abi3: one wheel for CPython 3.8 and later). Needs python3 with venv
# and pip, and the Rust toolchain.
#   bash scripts/build-python.sh            build and install
#   target/python-venv/bin/python -c 'import unspin; print(unspin.restore("helium said"))'
set -euo pipefail
cd "$(dirname "$0")/.."

MATURIN_VERSION=1.16.0
venv=${UNSPIN_PYTHON_VENV:-target/python-venv}
wheels=target/python-wheels

if [[ ! -x $venv/bin/python ]]; then
    python3 -m venv "$venv"
fi
if [[ $("$venv/bin/python" -m pip show maturin 2>/dev/null | sed -n 's/^Version: //p') != "$MATURIN_VERSION" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi
rm -rf "$wheels"
"$venv/bin/maturin" build --release --quiet \
    --manifest-path crates/unspin-python/Cargo.toml \
    --interpreter "$venv/bin/python" --out "$wheels"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps "$wheels"/unspin-*.whl
"$venv/bin/python" -c "import unspin; print('installed unspin', unspin.__version__, 'in $venv')"
