#!/usr/bin/env bash
# Create or refresh the shared .venv: copier, the test tools and every heavy
# dependency of a rendered package, from [dependency-groups] dev.
#
# It reinstalls only when the dev pins (or the interpreter) change: the key is
# a hash of the dev group as parsed from pyproject.toml, so editing unrelated
# parts of pyproject.toml (ruff or mypy settings) costs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp="$venv/.bootstrap-stamp"
# uv >= 0.13 reads `--group` from pyproject.toml and knows UV_SYSTEM_CERTS; a
# floor, not a pin, so the newest uv on the registry is fine.
uv_spec='uv>=0.13'
# pip trusts what pip.conf or the environment names; uv only trusts its own
# bundle unless told to use the system's store, where a site's CA lives.
export UV_SYSTEM_CERTS="${UV_SYSTEM_CERTS:-true}"
# Bump when the steps below change, so existing venvs get them once.
recipe=3

venv_ok() {
    [[ -x "$venv/bin/python" ]] &&
        "$venv/bin/python" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null
}

if ! venv_ok; then
    python=$(bash scripts/find-python.sh)
    echo "bootstrap: creating $venv with $python"
    rm -rf "$venv"
    "$python" -m venv "$venv"
fi

key=$("$venv/bin/python" - "$uv_spec" "$recipe" <<'PY'
import hashlib, json, sys, tomllib
with open("pyproject.toml", "rb") as f:
    dev = tomllib.load(f)["dependency-groups"]["dev"]
blob = json.dumps([dev, sys.argv[1:], sys.version], sort_keys=True)
print(hashlib.sha256(blob.encode()).hexdigest())
PY
)

if [[ -f "$stamp" && "$(cat "$stamp")" == "$key" ]]; then
    exit 0
fi

echo "bootstrap: installing the dev dependency group into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$uv_spec"
# The uv cache usually lives on another filesystem than the repo: copying
# avoids a hardlink warning on every install.
UV_LINK_MODE=copy "$venv/bin/python" -m uv pip install \
    --quiet --python "$venv/bin/python" --group dev
# Byte-compile everything now: with PYTHONDONTWRITEBYTECODE=1 (set on these
# machines) every process would otherwise recompile omnibase-core, copier and
# friends from source at each start, seconds per process. A file that does
# not compile only costs speed, hence no failure.
"$venv/bin/python" -m compileall -q -j 0 \
    "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
    >/dev/null 2>&1 || true
echo "$key" >"$stamp"
echo "bootstrap: done"
