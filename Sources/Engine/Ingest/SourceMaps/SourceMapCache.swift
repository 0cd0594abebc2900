import NIOConcurrencyHelpers

/// Parsed source maps by (bundle, file URL), least recently used first out once their
/// `approximateBytes` pass the bound. A map that failed to parse is kept too (as its error), so
/// a broken upload is parsed once, not once per event.
package final class SourceMapCache: Sendable {
    package struct Key: Hashable, Sendable {
        package var bundleID: Int64
        package var url: String

        package init(bundleID: Int64, url: String) {
            self.bundleID = bundleID
            self.url = url
        }
    }

    package typealias Parsed = Result<SourceMap, SourceMapError>

    private struct Entry {
        var value: Parsed
        var bytes: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    package let maximumBytes: Int
    private let state = NIOLockedValueBox(State())

    package init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
    }

    package var bytes: Int { state.withLockedValue { $0.bytes } }
    package var count: Int { state.withLockedValue { $0.entries.count } }

    package func value(_ key: Key) -> Parsed? {
        state.withLockedValue { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock &+= 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.value
        }
    }

    /// Stores a parse result and evicts the least recently used entries past the bound. A map
    /// larger than the whole bound is returned to its caller but not kept.
    package func store(_ value: Parsed, for key: Key) {
        let bytes: Int
        switch value {
        case .success(let map): bytes = map.approximateBytes
        case .failure(let error): bytes = error.reason.utf8.count + 64
        }
        guard bytes <= maximumBytes else { return }
        state.withLockedValue { state in
            state.clock &+= 1
            if let old = state.entries[key] { state.bytes -= old.bytes }
            state.entries[key] = Entry(value: value, bytes: bytes, lastUse: state.clock)
            state.bytes += bytes
            if state.bytes <= maximumBytes { return }
            // Evictions are rare (a bound of many maps); a scan per eviction keeps the hit path
            // to one dictionary update.
            let oldestFirst = state.entries.sorted { $0.value.lastUse < $1.value.lastUse }
            for (candidate, entry) in oldestFirst where state.bytes > maximumBytes && candidate != key {
                state.entries[candidate] = nil
                state.bytes -= entry.bytes
            }
        }
    }
}
