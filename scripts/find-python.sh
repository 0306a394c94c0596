#!/usr/bin/env bash
# Print the absolute path of the first Python >= 3.12 that actually runs.
#
# "Actually runs" matters: a pyenv shim named python3.12 is on PATH on these
# machines but exits 127 unless PYENV_VERSION selects 3.12, so existence on
# PATH proves nothing. Set PYTHON=/path/to/python to skip the search.
set -uo pipefail
shopt -s nullglob

probe='import sys; assert sys.version_info >= (3, 12); print(sys.executable)'

candidates=()
if [[ -n "${PYTHON:-}" ]]; then
    candidates+=("$PYTHON")
fi
candidates+=(python3.12 python3.13)
candidates+=("${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12)
candidates+=(/root/.pyenv/versions/3.1[23]*/bin/python3.1[23])

for candidate in "${candidates[@]}"; do
    if found=$("$candidate" -c "$probe" 2>/dev/null) && [[ -n "$found" ]]; then
        echo "$found"
        exit 0
    fi
done

echo "error: no Python >= 3.12 found; tried: ${candidates[*]}" >&2
echo "hint: install python3.12 or run 'make PYTHON=/path/to/python3.12 ...'" >&2
exit 1
