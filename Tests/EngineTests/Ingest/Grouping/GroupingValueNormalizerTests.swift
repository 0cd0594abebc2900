import PitIngest
import Testing

private func parameterize(_ value: String) -> String {
    GroupingValueNormalizer.parameterize(value)
}

// MARK: - Sentry's own tables

@Test("Sentry standard cases (bare, with prefix, with suffix, with both)", arguments: sentryStandardCases)
func sentryStandard(_ c: Case) {
    #expect(parameterize(c.input) == c.expected)
    #expect(parameterize("prefix \(c.input)") == "prefix \(c.expected)")
    #expect(parameterize("\(c.input) suffix") == "\(c.expected) suffix")
    #expect(parameterize("prefix \(c.input) suffix") == "prefix \(c.expected) suffix")
}

@Test("Sentry known imperfections keep Sentry's actual output", arguments: sentryKnownImperfectionCases)
func sentryKnownImperfections(_ c: Case) {
    #expect(parameterize(c.input) == c.expected)
}

@Test("Other Sentry expectations", arguments: sentryOtherCases)
func sentryOther(_ c: Case) {
    #expect(parameterize(c.input) == c.expected)
}

// MARK: - Additional edge cases

let edgeCases: [Case] = [
    Case("empty", "", ""),
    Case("unicode text untouched", "Ошибка: не удалось открыть 数据库 😀", "Ошибка: не удалось открыть 数据库 😀"),
    Case("unicode text with number", "Ошибка 42 в модуле", "Ошибка <int> в модуле"),
    Case("unicode letter before digits is a word char (no \\b)", "é123 x", "é123 x"),
    Case("unicode letter after digits is a word char (no \\b)", "123é x", "123é x"),
    Case("non-breaking space is whitespace for url end", "see http://a.io/x\u{00A0}now", "see <url>\u{00A0}now"),
    Case("emoji next to number", "😀42😀", "😀<int>😀"),
    Case("only numbers", "123 456 7890123 12345678", "<int> <int> <int> <hex>"),
    Case("negative ints", "offset -5 and -1234567", "offset <int> and <int>"),
    Case("negative float", "delta -1.5 units", "delta <float> units"),
    Case("float", "took 3.14159 units", "took <float> units"),
    Case("dash between words is not a minus", "utf-8 x-1", "utf-<int> x-<int>"),
    Case("ipv4 in sentence", "Failed to connect to 10.0.0.1 after 3 tries", "Failed to connect to <ip> after <int> tries"),
    Case("ipv4 with port", "connect 192.168.1.254:5432 refused", "connect <ip>:<int> refused"),
    Case("ipv4 cidr", "route 10.0.0.0/8 added", "route <ip> added"),
    Case("ipv4 octet too big is not an ip", "256.1.1.1", "<float>.<float>"),
    Case("ipv6 in sentence", "connect to 2001:db8:85a3::8a2e:370:7334 failed", "connect to <ip> failed"),
    Case("ipv6 bracketed with port", "[::1]:8080", "[<ip>]:<int>"),
    Case("ipv6 link-local with zone", "fe80::1%eth0 down", "<ip> down"),
    Case("ipv6 trailing single colon stays outside", "addr 2001:db8::1: failed", "addr <ip>: failed"),
    Case("ipv6 with too many groups falls back", "1:2:3:4:5:6:7:8:9", "<int>:<int>:<int>:<int>:<int>:<int>:<int>:<int>:<int>"),
    Case("c++ scope operator", "std::vector<int>::at", "std::vector<int>::at"),
    Case("url with port and query", "GET https://api.example.com:8443/v1/items?id=5&x=y failed", "GET <url> failed"),
    Case("websocket url", "wss://stream.example.io/socket closed", "<url> closed"),
    Case("ftp url", "ftp://files.example.org/pub/file.tgz missing", "<url> missing"),
    Case("email with plus and subdomain", "mail to first.last+tag@mail.example.co.uk bounced", "mail to <email> bounced"),
    Case("hostname uppercase TLD", "lookup API.EXAMPLE.COM failed", "lookup <hostname> failed"),
    Case("hostname mixed-case TLD is not a TLD", "lookup example.Com failed", "lookup example.Com failed"),
    Case("hostname unknown TLD", "lookup example.local failed", "lookup example.local failed"),
    Case("ISO date with millis and Z", "at 2024-03-05T10:20:30.123Z done", "at <date> done"),
    Case("RFC2822 date", "Date: Tue, 05 Mar 2024 10:20:30 +0000", "Date: <date>"),
    Case("RFC2822 date with zone name", "Tue, 5 Mar 2024 10:20 GMT", "<date>"),
    Case("old syslog-ish date", "Mar  5 10:20:30 2024 kernel", "<date> kernel"),
    Case("old numeric date (runs of spaces)", "Tue,  05  Mar  2024  10:20  +0100 x", "<date> x"),
    Case("duration ms", "query took 10ms", "query took <duration>"),
    Case("duration s", "timeout after 2.5s", "timeout after <duration>"),
    Case("spelled-out seconds is not a duration", "retry in 3 seconds", "retry in <int> seconds"),
    Case("hex 0xDEADBEEF", "segfault at 0xDEADBEEF", "segfault at <hex>"),
    Case("hex 0x not followed by boundary", "0x12g", "0x12g"),
    Case(
        "key=value mix", #"user="bob smith" active=true count=5 ok=False mode='fast'"#,
        "user=<quoted_str> active=<bool> count=<int> ok=<bool> mode=<quoted_str>"),
    Case("bool needs no trailing boundary (Sentry quirk)", "a=trueish", "a=<bool>ish"),
    Case("empty quoted value is not a quoted_str", "a='' b=\"\"", "a='' b=\"\""),
    Case("git sha in sentence", "deployed 3f9a2c1 to prod", "deployed <git_sha> to prod"),
    Case("uuid uppercase", "id 7C1811ED-E98F-4C9C-A9F9-58C757FF494F gone", "id <uuid> gone"),
    Case("python datetime repr", "at datetime.datetime(2024, 1, 2, 3, 4) boom", "at <date> boom"),
    Case("python datetime without close paren", "datetime.datetime(2024, 1", "datetime.datetime(<int>, <int>"),
    Case("traceparent w3c", "tp=00-4bf92f3577b86cd56163f2543210c4a0-00f067aa0ba902b7-01 x", "tp=<traceparent> x"),
]

@Test("Edge cases", arguments: edgeCases)
func edge(_ c: Case) {
    #expect(parameterize(c.input) == c.expected)
}

@Test func differentValuesGroupTogether() {
    let a = GroupingValueNormalizer.normalize("Failed to connect to 10.0.0.1 after 3 tries")
    let b = GroupingValueNormalizer.normalize("Failed to connect to 10.0.0.2 after 5 tries")
    #expect(a == b)
    #expect(a == "Failed to connect to <ip> after <int> tries")
}

// MARK: - Line trimming

let trimCases: [Case] = [
    Case("empty", "", ""),
    Case("single line", "hello", "hello"),
    Case("two lines unchanged", "a\nb", "a\nb"),
    Case("third line cut", "a\nb\nc", "a\nb..."),
    Case("blank lines skipped", "a\n\n   \nb", "a\nb..."),
    Case("leading blank lines", "\n\nfoo", "foo..."),
    Case("trailing newline counts as a change", "a\n", "a..."),
    Case("CRLF normalized", "a\r\nb", "a\nb..."),
    Case("lone CR", "a\rb", "a\nb..."),
    Case("whitespace only", "   ", "..."),
    Case("kept lines are not stripped", " a \n b ", " a \n b "),
    Case("unicode line separators", "a\u{2028}b\u{2029}c", "a\nb..."),
    Case("vertical tab and form feed split lines", "a\u{0B}b\u{0C}c", "a\nb..."),
    Case("NEL splits lines", "a\u{85}b", "a\nb..."),
    Case("unit separator is whitespace but not a break", "\u{1F}\na", "a..."),
]

@Test("trimLines follows Python splitlines/strip semantics", arguments: trimCases)
func trim(_ c: Case) {
    #expect(GroupingValueNormalizer.trimLines(c.input) == c.expected)
}

@Test func normalizeTrimsThenParameterizes() {
    let value = "Timeout after 30s on 10.1.2.3\n\n  at foo (bar.js:10:5)\n  at baz (qux.js:20:7)"
    #expect(GroupingValueNormalizer.normalize(value) == "Timeout after <duration> on <ip>\n  at foo (bar.js:<int>:<int>)...")
}

// MARK: - Performance (linear-time scanning)

private func timed(_ body: () -> Void) -> Duration {
    let clock = ContinuousClock()
    return clock.measure(body)
}

@Test func oneMegabyteRealisticInputIsFast() {
    let line =
        "ERROR 2024-03-05T10:20:30Z user=alice@example.com id=7c1811ed-e98f-4c9c-a9f9-58c757ff494f "
        + "failed to GET https://api.example.com/v1/items?id=42 from 10.0.0.1 after 3 tries (took 120ms) "
        + "0xDEADBEEF a=true b='x' Ошибка 数据库 "
    let input = String(repeating: line, count: (1 << 20) / line.utf8.count + 1)
    #expect(input.utf8.count >= 1 << 20)
    var output = ""
    let elapsed = timed { output = parameterize(input) }
    #expect(elapsed < .seconds(60), "a quadratic path would take hours; see `pathological`")
    // `user=alice@...` is one email: Sentry's local-part class includes `=`.
    #expect(output.hasPrefix("ERROR <date> <email> id=<uuid> failed to GET <url> from <ip> after <int> tries"))
}

let pathologicalInputs: [Case] = [
    Case("letters", String(repeating: "a", count: 1 << 20), ""),
    Case("digits", String(repeating: "7", count: 1 << 20), ""),
    Case("dotted labels", String(repeating: "a.", count: 1 << 19), ""),
    Case("dotted digits", String(repeating: "1.", count: 1 << 19), ""),
    Case("colons", String(repeating: ":", count: 1 << 20), ""),
    Case("hex groups", String(repeating: "ab:", count: 1 << 18), ""),
    Case("unterminated quotes", String(repeating: "x='", count: 1 << 18), ""),
    Case("unterminated datetime", String(repeating: "datetime.datetime(", count: 1 << 16), ""),
    Case("emails without domain", String(repeating: "a@", count: 1 << 19), ""),
    Case("invalid ip candidates (fallback path)", String(repeating: "1:2:3 ", count: 1 << 17), ""),
]

/// A guard against quadratic paths, not a speed claim (that is Benchmarks/): a quadratic pass
/// over 1 MB costs ~10^12 steps, hours; linear code takes well under a second quiet and a few
/// seconds on a CI machine shared with other work, so 60 s never flakes and still catches it.
@Test("Adversarial 1 MB inputs stay linear", arguments: pathologicalInputs)
func pathological(_ c: Case) {
    let elapsed = timed { _ = parameterize(c.input) }
    #expect(elapsed < .seconds(60))
}
