#!/usr/bin/env python3
"""The house rules a compiler and clippy cannot check, checked on every CI run.

    deploy/ci/house-style.py        # from the repository root; exits 1 on any breach

- every Rust file starts with a `//!` comment saying what it is for;
- no Rust file is longer than MAX_LINES lines;
- no `thread_local!`: layers share per-call facts through typed per-call state;
- no import cycle between the module files of a crate (module a uses b, b uses a, directly or
  through others);
- no crate holds more than MAX_SHARE of the workspace's Rust source.

Written here because no library fits: `cargo modules dependencies --acyclic` finds module
cycles, but it is built on rust-analyzer and takes many minutes to compile on a 2-core CI
machine; the other rules are a few lines each. The cycle check reads `use` paths and qualified
paths in code (comments and strings stripped), resolving `crate::`, `super::` and `self::` to
module files; the crate root (lib.rs, main.rs) is left out, as it declares and re-exports every
module. A name re-exported by the root (`crate::Error`) counts as a use of the module it comes
from.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

MAX_LINES = 400
MAX_SHARE = 0.30
ROOT = Path(__file__).resolve().parents[2]


def rust_files():
    for path in sorted((ROOT / "crates").rglob("*.rs")):
        if "target" not in path.parts:
            yield path
    yield ROOT / "deploy" / "healthcheck.rs"


def code_only(text):
    """The text with comments, string and char literals blanked (lines kept), read left to right
    so that `//` inside a string and quotes inside a comment are what they are."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not text[i - 1].isalnum()):
            end = text.find('"' + m.group(1), i + m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def crate_of(path):
    """The directory holding the crate's Cargo.toml."""
    for parent in path.parents:
        if (parent / "Cargo.toml").exists():
            return parent
    return None


def module_path(src, path):
    """`a::b` for src/a/b.rs or src/a/b/mod.rs; `` for the root."""
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ""
    return "::".join(parts)


def check_cycles(crate):
    """Returns the module cycles of one crate's src/ tree, as lists of module names."""
    src = crate / "src"
    if not src.is_dir():
        return []
    files = {}
    for path in src.rglob("*.rs"):
        if "bin" in path.relative_to(src).parts:
            continue
        files[module_path(src, path)] = code_only(path.read_text())
    modules = set(files)
    reexports = {}
    for module, names in re.findall(r"pub use (\w+)::\{?([\w,\s]+)\}?;", files.get("", "")):
        for name in names.split(","):
            reexports[name.strip()] = module

    def resolve(here, segments):
        """The module a path starting with crate/super/self lands in, or None."""
        base = here.split("::") if here else []
        head, rest = segments[0], segments[1:]
        if head == "crate":
            base = []
        elif head == "super":
            base = base[:-1]
            while rest and rest[0] == "super":
                base, rest = base[:-1], rest[1:]
        elif head != "self":
            return None
        candidate, found = list(base), "::".join(base)
        for segment in rest:
            candidate.append(segment)
            name = "::".join(candidate)
            if name in modules:
                found = name
            else:
                if found == "" and segment in reexports:
                    return reexports[segment]
                break
        return found

    edges = defaultdict(set)
    for module, text in files.items():
        if module == "":
            continue
        paths = []
        for use in re.findall(r"\buse\s+((?:crate|super|self)::[^;]+);", text):
            prefix, _, group = use.partition("::{")
            if group:
                for item in re.split(r",\s*", group.rstrip("}")):
                    paths.append(prefix + "::" + item.strip())
            else:
                paths.append(use)
        paths += re.findall(r"\b((?:crate|super)(?:::\w+)+)", text)
        for path in paths:
            segments = [s for s in re.split(r"::", path.replace(" ", "")) if s]
            target = resolve(module, segments)
            if target not in (None, "", module) and not module.startswith(target + "::"):
                edges[module].add(target)

    # Tarjan's strongly connected components.
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(modules - {""}):
        if node not in index:
            visit(node)
    return cycles


def main():
    problems = []
    lines_by_crate = defaultdict(int)
    for path in rust_files():
        text = path.read_text()
        rel = path.relative_to(ROOT)
        lines = text.count("\n")
        if not text.startswith("//!"):
            problems.append(f"{rel}: does not start with a //! comment saying what it is for")
        if lines > MAX_LINES:
            problems.append(f"{rel}: {lines} lines (the house limit is {MAX_LINES})")
        if "thread_local!" in code_only(text):
            problems.append(f"{rel}: thread_local! (share per-call facts through typed state)")
        crate = crate_of(path)
        if crate is not None and crate != ROOT:
            lines_by_crate[crate] += lines
    total = sum(lines_by_crate.values())
    for crate, lines in sorted(lines_by_crate.items()):
        share = lines / total
        if share > MAX_SHARE:
            problems.append(
                f"{crate.relative_to(ROOT)}: {share:.0%} of the Rust source "
                f"(the house limit is {MAX_SHARE:.0%}): split it along its seams"
            )
        for cycle in check_cycles(crate):
            problems.append(f"{crate.relative_to(ROOT)}: import cycle between {', '.join(cycle)}")
    for problem in problems:
        print(problem)
    largest = max(lines_by_crate.items(), key=lambda item: item[1])
    print(
        f"house style: {sum(1 for _ in rust_files())} files, {len(lines_by_crate)} crates, "
        f"largest {largest[0].relative_to(ROOT)} at {largest[1] / total:.0%}; "
        f"{len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
