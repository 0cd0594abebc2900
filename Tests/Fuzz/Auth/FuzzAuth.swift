import PitModel
import PitIngest

// The parsers of what a client puts in request headers and the query string: Sentry auth
// (X-Sentry-Auth, Authorization: Sentry/Basic/DSN, ?sentry_key=), DSNs (also from the tunnel's
// envelope header), Content-Encoding, percent-decoding, timestamps and event ids.
//
// Input layout: one selector byte, then up to three fields separated by 0xFF (never valid UTF-8,
// so it cannot collide with header text): X-Sentry-Auth, Authorization, query. Selector bits 0-2
// make the matching field absent (nil) rather than empty.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAuth(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = data[0]
    let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let fields = rest.split(separator: 0xFF, maxSplits: 2, omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    func field(_ index: Int) -> String? {
        guard selector & (1 << index) == 0, index < fields.count else { return nil }
        return fields[index]
    }
    do {
        if let auth = try SentryAuth.extract(xSentryAuth: field(0), authorization: field(1), query: field(2).map { Substring($0) }) {
            precondition(SentryAuth.isPlausibleKey(auth.publicKey), "accepted an implausible public key")
        }
    } catch {
        _ = error.description
    }
    let whole = String(decoding: rest, as: UTF8.self)
    for text in fields + [whole] {
        if let dsn = DSN(text) {
            precondition(dsn.projectID > 0 && !dsn.publicKey.isEmpty && !dsn.host.isEmpty, "accepted an incomplete DSN")
            // What the server prints as a project's DSN must read back as the same DSN.
            precondition(DSN(dsn.description) == dsn, "DSN does not survive its own description")
        }
        _ = ContentEncoding(headerValue: text)
        _ = URLEncoding.queryItems(Substring(text))
        _ = Timestamp.parse(text)
        _ = EventID(text)
        _ = Level(name: text)
    }
    return 0
}
