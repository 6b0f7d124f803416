# Sourced by scripts/test.sh and scripts/bigfleet.sh: installs moto[server] (pinned) into
# .venv unless it is there already. Run from the repository root.
MOTO_VERSION="5.2.5"
VENV=".venv"

if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "==> installing moto[server]==$MOTO_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
