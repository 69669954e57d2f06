#!/usr/bin/env python3
"""Checks that the code regions marked in test sources appear verbatim in the README.

A region is the lines between `// readme: NAME begin` and `// readme: NAME end`; the README
must hold the same lines, in order and contiguous (inside a code block), less the indentation
they share (a region inside a function is shown at the left margin). The test sources
compile and run the code, so together the README's examples cannot drift from the API.

    readme_snippets.py README.md tests/unit/events/test_readme_seeds.cpp ...
"""
import re
import sys


def dedented(lines):
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return [line[cut:] for line in lines]


def regions(path):
    found, name, lines = {}, None, []
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        marker = re.match(r"\s*// readme: (\S+) (begin|end)\s*$", line)
        if marker and marker.group(2) == "begin":
            name, lines = marker.group(1), []
        elif marker:
            if name != marker.group(1):
                sys.exit(f"{path}:{number}: 'end' of {marker.group(1)} without its 'begin'")
            found[name] = dedented(lines)
            name = None
        elif name is not None:
            lines.append(line.rstrip("\n"))
    if name is not None:
        sys.exit(f"{path}: region {name} has no 'end'")
    return found


def main():
    readme_path, sources = sys.argv[1], sys.argv[2:]
    readme = open(readme_path, encoding="utf-8").read().split("\n")
    failed = 0
    checked = 0
    for source in sources:
        for name, lines in regions(source).items():
            checked += 1
            width = len(lines)
            if not any(readme[i:i + width] == lines for i in range(len(readme) - width + 1)):
                failed += 1
                print(f"{source}: region '{name}' ({width} lines, first: {lines[0]!r}) is not in {readme_path} "
                      "verbatim; copy it there, or change both")
    if checked == 0:
        sys.exit("no region found: the markers are missing")
    print(f"{checked} regions checked, {failed} differ")
    sys.exit(1 if failed else 0)


main()
