"""One table of Go duration strings, for every parser of them in the template.

What Go's ``time.ParseDuration`` (so Consul) accepts, with its value in
nanoseconds, and what it rejects, with Go's message. tests/test_go_durations.py
holds the copier validators' macro (includes/macros.jinja) and the package's
parser (managed/values/durations.py, which the agent double uses too) to it.
"""

from __future__ import annotations

SECOND = 1_000_000_000

VALID: list[tuple[str, int]] = [
    ("10s", 10 * SECOND),
    ("1m30s", 90 * SECOND),
    ("1h", 3600 * SECOND),
    ("1.5h", 5400 * SECOND),
    ("250ms", SECOND // 4),
    ("1.5s", 3 * SECOND // 2),
    (".5s", SECOND // 2),
    ("5.s", 5 * SECOND),
    ("1us", 1_000),
    ("300us", 300_000),
    ("300µs", 300_000),  # U+00B5 micro sign
    ("300μs", 300_000),  # U+03BC greek mu
    ("42ns", 42),
    ("1h2m3s4ms", 3723 * SECOND + 4_000_000),
    ("1h2m3.004s", 3_723_004_000_000),
    ("+1m", 60 * SECOND),
    ("-5s", -5 * SECOND),
    ("0", 0),
    ("+0", 0),
    ("-0", 0),
    ("0s", 0),
    ("-9223372036854775808ns", -(2**63)),  # Go's smallest Duration
]

# Syntax Go rejects, with its message.
INVALID: list[tuple[str, str]] = [
    ("", 'time: invalid duration ""'),
    ("10", 'time: missing unit in duration "10"'),
    ("ten", 'time: invalid duration "ten"'),
    ("10sec", 'time: unknown unit "sec" in duration "10sec"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("s", 'time: invalid duration "s"'),
    ("-", 'time: invalid duration "-"'),
    (".s", 'time: invalid duration ".s"'),
    ("--1s", 'time: invalid duration "--1s"'),
    ("1.2.3s", 'time: missing unit in duration "1.2.3s"'),
    ("1e3s", 'time: unknown unit "e" in duration "1e3s"'),
    ("1 s", 'time: unknown unit " s" in duration "1 s"'),
    ("1m 30s", 'time: unknown unit "m " in duration "1m 30s"'),
    (" 10s", 'time: invalid duration " 10s"'),
    ("10s ", 'time: unknown unit "s " in duration "10s "'),
    ("\u0663s", 'time: invalid duration "\u0663s"'),  # an Arabic-Indic 3: not ASCII
]

# Well-formed, but beyond Go's int64 nanoseconds (about 2562047h).
OUT_OF_RANGE: list[tuple[str, str]] = [
    ("3000000h", 'time: invalid duration "3000000h"'),
    ("99999999999h", 'time: invalid duration "99999999999h"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
]
