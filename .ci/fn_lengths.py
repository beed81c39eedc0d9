#!/usr/bin/env python3
"""Lists the longest hand-written Rust functions in the workspace.

How it counts: a function runs from the line holding its `fn` keyword to the line
holding the brace that closes its body, both included (doc comments and
attributes above it are not counted; blank and comment lines inside are).
Comments, string, raw-string and char literals are blanked first, so braces
inside them do not count. Declarations without a body (`fn f();`) are skipped.
Generated code (`*/generated/*`) and `target/` are skipped.

usage: fn_lengths.py [--top N] [--max LINES] [--allow PATH ...]
With `--max`, exits 1 when a function outside the `--allow`ed files is longer.
"""
import argparse
import os
import re
import sys


def blank(text):
    """Replaces comments and literals by spaces, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif (m := re.compile(r'b?r(#*)"').match(text, i)) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = '"' + m.group(1)
            j = text.find(end, m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'" and (m := re.compile(r"'(\\.[^']*|[^'\\])'").match(text, i)):
            out.append(" " * (m.end() - i))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def functions(path):
    text = blank(open(path, encoding="utf-8").read())
    for m in FN.finditer(text):
        # The body opens at the first `{` or `;` at depth 0 after the signature.
        depth, j = 0, m.end()
        while j < len(text):
            ch = text[j]
            if ch in "(<[":
                depth += 1
            elif ch in ")>]" and not (ch == ">" and text[j - 1] == "-"):
                depth -= 1
            elif ch == ";" and depth <= 0:
                j = -1
                break
            elif ch == "{" and depth <= 0:
                break
            j += 1
        if j < 0 or j >= len(text):
            continue
        braces, k = 0, j
        while k < len(text):
            if text[k] == "{":
                braces += 1
            elif text[k] == "}":
                braces -= 1
                if braces == 0:
                    break
            k += 1
        start = text.count("\n", 0, m.start()) + 1
        end = text.count("\n", 0, k) + 1
        yield end - start + 1, start, m.group(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--max", type=int)
    parser.add_argument("--allow", nargs="*", default=[])
    args = parser.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("target", ".git", "generated")]
        for name in filenames:
            if name.endswith(".rs"):
                path = os.path.relpath(os.path.join(dirpath, name), root)
                found += [(length, f"{path}:{line}", fn, path) for length, line, fn in functions(os.path.join(root, path))]
    found.sort(key=lambda f: (-f[0], f[1]))
    for length, at, fn, _ in found[: args.top]:
        print(f"{length:5}  {at}  {fn}")
    if args.max is not None:
        over = [f for f in found if f[0] > args.max and f[3] not in args.allow]
        for length, at, fn, _ in over:
            print(f"error: `{fn}` at {at} is {length} lines, over {args.max}; split it", file=sys.stderr)
        return 1 if over else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
