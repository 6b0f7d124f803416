# Sourced by scripts/test.sh and scripts/bigfleet.sh: installs moto[server] (pinned) into
# .venv unless it is there already. Run from the repository root.
MOTO_VERSION="5.2.5"
# The ASK SDK's model, which the Alexa tests deserialize our APL directive with (there is
# no Rust ASK SDK); ask-sdk-core holds the SDK's deserializer.
ASK_SDK_VERSION="1.19.0"
ASK_MODEL_VERSION="1.82.0"
VENV=".venv"

if ! "$VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "==> installing moto[server]==$MOTO_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
if ! "$VENV/bin/python" -c "import ask_sdk_core, sys; from ask_sdk_model.__version__ import __version__ as v; sys.exit(v != '$ASK_MODEL_VERSION')" 2>/dev/null; then
    echo "==> installing ask-sdk-core==$ASK_SDK_VERSION and ask-sdk-model==$ASK_MODEL_VERSION into $VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "ask-sdk-core==$ASK_SDK_VERSION" "ask-sdk-model==$ASK_MODEL_VERSION"
fi

