#!/usr/bin/env python3
"""Writes the source-map fixture: two original sources, their minified bundle and a correct
Source Map v3 for it, and expected.json (the minified frames of an error thrown in the bundle and
the original frames they resolve to).

A small minifier instead of a real one (npm is out of reach): it drops whitespace and comments,
renames local identifiers, and records one mapping segment per emitted token, with the original
name for every renamed identifier, as terser does. Run it from anywhere; it writes beside itself.
"""

import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DEBUG_ID = "6a0f2b1c-3d4e-4f50-8a6b-7c8d9e0f1a2b"

SOURCES = {
    "src/util.js": """// Fixture: an original source of app.min.js (written by make-fixture.py).
function connect(endpoint) {
  return "connected to " + endpoint;
}
""",
    "src/app.js": """// Fixture: an original source of app.min.js (written by make-fixture.py).
function parseConfig(text) {
  const parsed = JSON.parse(text);
  if (!parsed.endpoint) {
    throw new Error("config has no endpoint");
  }
  return parsed;
}

function startApp(configText) {
  const config = parseConfig(configText);
  return connect(config.endpoint);
}

function main() {
  return startApp("{}");
}

main();
""",
}

RENAMES = {
    "connect": "a",
    "endpoint": "b",
    "parseConfig": "c",
    "text": "d",
    "parsed": "e",
    "startApp": "f",
    "configText": "g",
    "config": "h",
    "main": "i",
}

TOKEN = re.compile(r'\s+|//[^\n]*|"(?:[^"\\]|\\.)*"|[A-Za-z_$][A-Za-z0-9_$]*|\d+|.')
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def vlq(value):
    value = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit = value & 31
        value >>= 5
        out += BASE64[digit | (32 if value else 0)]
        if not value:
            return out


def tokens(text):
    line, column = 0, 0
    for match in TOKEN.finditer(text):
        token = match.group(0)
        if not token.isspace() and not token.startswith("//"):
            yield token, line, column
        for character in token:
            if character == "\n":
                line, column = line + 1, 0
            else:
                column += 1


def minify():
    out = ""
    segments = []  # (generated column, source index, line, column, name index or None)
    names = []
    previous = ""
    for source_index, name in enumerate(SOURCES):
        prior = None
        for token, line, column in tokens(SOURCES[name]):
            emitted, name_index = token, None
            if token in RENAMES and prior != ".":
                emitted = RENAMES[token]
                if token not in names:
                    names.append(token)
                name_index = names.index(token)
            if re.match(r"[A-Za-z0-9_$]", emitted) and re.search(r"[A-Za-z0-9_$]$", previous):
                out += " "
            segments.append((len(out), source_index, line, column, name_index))
            out += emitted
            previous, prior = emitted, token
    return out, segments, names


def encode(segments):
    fields = [0, 0, 0, 0, 0]
    parts = []
    for generated, source, line, column, name in segments:
        part = vlq(generated - fields[0]) + vlq(source - fields[1]) + vlq(line - fields[2]) + vlq(column - fields[3])
        fields[:4] = [generated, source, line, column]
        if name is not None:
            part += vlq(name - fields[4])
            fields[4] = name
        parts.append(part)
    return ",".join(parts)


def main():
    code, segments, names = minify()
    source_map = {
        "version": 3,
        "file": "app.min.js",
        "sources": list(SOURCES),
        "sourceRoot": "webpack://fixture/",
        "sourcesContent": list(SOURCES.values()),
        "names": names,
        "mappings": encode(segments),
        "debug_id": DEBUG_ID,
    }
    minified = code + "\n//# sourceMappingURL=app.min.js.map\n//# debugId=" + DEBUG_ID + "\n"

    def generated_column(needle, after=0):
        return code.index(needle, after) + 1  # Sentry's colno is 1-based

    body_of_c = code.index("function c(")
    body_of_f = code.index("function f(")
    body_of_i = code.index("function i(")
    # Oldest first, as SDKs send them: the top-level call, then each call down to the throw.
    # Each position is where V8 puts it: the callee of a call, `new` of a `throw new`.
    frames = [
        {"function": "?", "colno": code.rindex("i()") + 1, "resolved": {"function": "?", "line": 18, "column": 0}},
        {"function": "i", "colno": generated_column("f(", body_of_i), "resolved": {"function": "main", "line": 15, "column": 9}},
        {"function": "f", "colno": generated_column("c(", body_of_f), "resolved": {"function": "startApp", "line": 10, "column": 17}},
        {"function": "c", "colno": generated_column("new ", body_of_c), "resolved": {"function": "parseConfig", "line": 4, "column": 10}},
    ]
    expected = {"debug_id": DEBUG_ID, "frames": []}
    for frame in frames:
        resolved = frame["resolved"]
        original_lines = SOURCES["src/app.js"].split("\n")
        expected["frames"].append(
            {
                "minified": {"function": frame["function"], "lineno": 1, "colno": frame["colno"]},
                "original": {
                    "abs_path": "webpack://fixture/src/app.js",
                    "function": resolved["function"],
                    "lineno": resolved["line"] + 1,
                    "colno": resolved["column"] + 1,
                    "context_line": original_lines[resolved["line"]],
                },
            }
        )
    with open(os.path.join(HERE, "app.min.js"), "w") as f:
        f.write(minified)
    with open(os.path.join(HERE, "app.min.js.map"), "w") as f:
        json.dump(source_map, f, separators=(",", ":"))
        f.write("\n")
    for name, text in SOURCES.items():
        os.makedirs(os.path.join(HERE, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(HERE, name), "w") as f:
            f.write(text)
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
