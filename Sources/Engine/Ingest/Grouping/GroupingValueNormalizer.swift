// Sentry-compatible message / exception-value parameterization for grouping.
//
// Reference behaviour: getsentry/sentry `src/sentry/grouping/parameterization.py`
// (`DEFAULT_PARAMETERIZATION_REGEXES` + `Parameterizer.parameterize`) and
// `src/sentry/grouping/utils.py` (`normalize_message_for_grouping`, line trimming),
// as of spring 2026, i.e. including the change "fix(grouping): Fix IPv6 parameterization"
// (getsentry/sentry#111979: loose IP-like pattern, validated like Python's `ipaddress`,
// placed after the date pattern, with a sequential fallback pass when a candidate is rejected).
// Only behaviour was ported; no Sentry code was copied.
//
// WHY HAND-WRITTEN: this runs on the ingest hot path for every event without a usable stack
// trace. Sentry compiles one giant alternation regex; a regex engine (NSRegularExpression or
// Swift `Regex`) would cost allocations, Unicode-heavy matching and backtracking on every
// event. Instead we scan the UTF-8 bytes once, left to right. At each position we try the
// token classes in Sentry's priority order, each as a small specialised matcher that
// reproduces the regex's semantics exactly (leftmost match, first alternative wins, greedy /
// lazy quantifiers and the backtracking that matters, `\b` / lookaround boundaries). Unbounded
// sub-scans are memoised so the whole pass stays linear even on adversarial input.
//
// Intentional / known divergences from Sentry (see also the test file):
//  * `\d` is ASCII-only here. Python's `re` also treats other Unicode decimal digits
//    (e.g. Arabic-Indic) as `\d`. `\w`, `\b` and `\s` ARE Unicode-aware, as in Python.
//  * The exact loosened IP regex of #111979 was not available to us, so the IP *candidate*
//    grammar is our own (hex groups and colons with an optional dotted-quad tail, `%zone`,
//    `/prefix`; IPv4 dotted quads at a word boundary), validated with Python `ipaddress`
//    rules. Clear IPs and non-IPs behave like Sentry; exotic near-IPs may differ.
//  * Later upstream changes are not included: the MAC-address pattern (#113129), "dotted
//    ints" (#114776: `1.2.3.4.5` / `1.2.3` handling), and the experimental-pattern rollout
//    (no experiments are defined upstream at the time of writing).

/// Sentry-style grouping normalization for exception values and log messages.
package enum GroupingValueNormalizer {
    /// Sentry-style parameterization of an exception value or message for grouping:
    /// trims to the first two non-empty lines (plus `...` when anything changed), then
    /// replaces variable parts with placeholders such as `<int>` or `<uuid>`.
    package static func normalize(_ value: String) -> String {
        parameterize(trimLines(value))
    }

    /// Only the line trimming part: Sentry keeps the first two non-empty lines (as split by
    /// Python's `str.splitlines()`, "non-empty" meaning not all whitespace), joins them with
    /// `\n`, and appends `...` whenever the result differs from the input - including when only
    /// blank lines, a trailing newline or `\r\n` line endings were changed.
    package static func trimLines(_ value: String) -> String {
        var copy = value
        return copy.withUTF8 { buffer in
            LineTrimmer.trim(buffer) ?? value
        }
    }

    /// Only the placeholder replacement part (no line trimming).
    package static func parameterize(_ value: String) -> String {
        var copy = value
        return copy.withUTF8 { buffer -> String in
            var scanner = ParameterScanner(buffer, patterns: ParameterPattern.all)
            switch scanner.run(stopOnRejectedIP: true) {
            case .unchanged:
                return value
            case .changed(let bytes):
                return String(decoding: bytes, as: UTF8.self)
            case .rejectedIP:
                // Sentry's fallback: an IP-like match was rejected by validation, so the
                // combined regex may have skipped later patterns there. Re-apply each pattern on
                // its own, in order, each pass working on the previous pass's output.
                var current = Array(buffer)
                for pattern in ParameterPattern.allCases {
                    let result = current.withUnsafeBufferPointer { bytes in
                        var single = ParameterScanner(bytes, patterns: pattern.bit)
                        return single.run(stopOnRejectedIP: false)
                    }
                    if case .changed(let bytes) = result { current = bytes }
                }
                return String(decoding: current, as: UTF8.self)
            }
        }
    }
}
