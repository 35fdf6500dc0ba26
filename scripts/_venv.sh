# Shared by scripts/demo and scripts/test: create ./.venv with Python >= 3.11 and install into it.
PYTHON_BIN=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON_BIN" -c 'import sys; assert sys.version_info >= (3, 11), "modelbook needs Python 3.11+"'
    "$PYTHON_BIN" -m venv .venv
fi
install_project() {
    # $1: the pip requirement for this project, e.g. "." or ".[test]"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$1" 2>&1 \
        | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    test "${PIPESTATUS[0]}" -eq 0
}
