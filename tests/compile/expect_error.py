#!/usr/bin/env python3
"""Compiles a snippet that must not compile and checks that the compiler says what courier
meant it to say, near the top, and briefly (a user's mistake must not end in a wall of
overload candidates). The snippet's first line holds the expected text: `// expect: ...`.

Usage: expect_error.py <snippet> <compiler and flags...>"""
import subprocess
import sys

MAX_ERRORS = 2  # the static_assert, and at most one consequence of it

snippet = sys.argv[1]
compiler = sys.argv[2:]
first = open(snippet).readline()
prefix = '// expect: '
if not first.startswith(prefix):
    sys.exit(f'{snippet}: the first line must be "{prefix}<text the compiler must print>"')
expected = first[len(prefix):].strip()
run = subprocess.run(compiler + ['-fsyntax-only', '-fdiagnostics-color=never', snippet],
                     capture_output=True, text=True)
errors = [l for l in run.stderr.splitlines() if ' error: ' in l]
problems = []
if run.returncode == 0:
    problems.append('it compiled')
if expected not in run.stderr:
    problems.append(f'the compiler did not say: {expected}')
if len(errors) > MAX_ERRORS:
    problems.append(f'{len(errors)} errors (at most {MAX_ERRORS} expected)')
if problems:
    print(f'{snippet}: ' + '; '.join(problems))
    print('--- the compiler said (first 40 lines):')
    print('\n'.join(run.stderr.splitlines()[:40]))
    sys.exit(1)
print(f'{snippet}: {len(errors)} error(s), saying: {expected}')
