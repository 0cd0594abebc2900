"""A JavaScript bundle the size of a real app's (a ~1.6 MB minified file, a ~9 MB source map with
400,000 mappings and 400 sources), generated, and a browser event pointing into it: used where a
map must take long to parse (the kill -9 test of held events, scripts/bench-sourcemaps)."""

from __future__ import annotations

import json
from pathlib import Path

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _vlq(value: int) -> str:
    v = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit, v = v & 31, v >> 5
        out += B64[digit | (32 if v else 0)]
        if not v:
            return out


def write_large_bundle(directory: Path, lines: int = 40, per_line: int = 10_000, sources: int = 400) -> None:
    """A bundle the size of a real app's: a ~1.6 MB minified file and a ~9 MB map (400,000
    mappings, 400 sources with their content), whose first parse takes long enough to stop pitd
    in the middle of it."""
    directory.mkdir(parents=True)
    minified = "\n".join("a();" * per_line for _ in range(lines))
    segments, previous = [], [0, 0, 0]
    for line in range(lines):
        column, row = 0, []
        for index in range(per_line):
            source, original_line, original_column = (line * per_line + index) % sources, (index // 7) % 400, (index % 7) * 4
            row.append(_vlq(index * 4 - column) + _vlq(source - previous[0]) + _vlq(original_line - previous[1])
                       + _vlq(original_column - previous[2]))
            column, previous = index * 4, [source, original_line, original_column]
        segments.append(",".join(row))
    content = "\n".join(f"  const value{n} = compute({n}); // line {n}" for n in range(400))
    source_map = {"version": 3, "file": "big.min.js", "names": [], "mappings": ";".join(segments),
                  "sources": [f"src/module{n}.js" for n in range(sources)], "sourcesContent": [content] * sources}
    (directory / "big.min.js").write_text(minified + "\n//# sourceMappingURL=big.min.js.map\n")
    (directory / "big.min.js.map").write_text(json.dumps(source_map))


def large_bundle_event(debug_id: str, event_id: str) -> dict:
    url = "http://localhost:8000/static/big.min.js"
    return {
        "event_id": event_id, "platform": "javascript", "level": "error",
        "sdk": {"name": "sentry.javascript.browser", "version": "8.0.0"},
        "exception": {"values": [{"type": "Error", "value": "computed too much",
                                  "stacktrace": {"frames": [{"abs_path": url, "filename": url, "function": "a",
                                                             "lineno": 3, "colno": 41, "in_app": True}]}}]},
        "debug_meta": {"images": [{"type": "sourcemap", "code_file": url, "debug_id": debug_id}]},
    }
