import NIOConcurrencyHelpers
import PitModel

/// Failed sign-in attempts per account and per client address, as token buckets.
///
/// Each key may spend `burst` attempts at once, then one every `interval` seconds. An attempt is
/// charged *before* its password is hashed, so a hundred parallel guesses cannot all slip in
/// while the first ones are still hashing; a successful sign-in refunds its charge (and clears
/// the account's debt, so a person who finally typed the right password starts afresh).
///
/// A bucket is one `Double` (when its debt is paid off), kept only while in debt. The table
/// holds at most `capacity` keys: when full, paid-off keys go first, then the keys closest to
/// being paid off, so a flood of made-up emails cannot push out the accounts under attack for
/// long, and memory stays bounded whatever the flood.
package final class LoginThrottle: Sendable {
    package struct Policy: Sendable {
        /// Attempts allowed back to back; 0 turns this throttle off.
        package var burst: Int
        /// Seconds after which one more attempt is allowed.
        package var interval: Double

        package init(burst: Int, interval: Double) {
            self.burst = burst
            self.interval = interval
        }
    }

    /// The attempt is refused; `retryAfter` is when the next one is allowed, in whole seconds.
    package struct Refused: Error, Sendable, Equatable {
        package let retryAfter: Int

        package init(retryAfter: Int) {
            self.retryAfter = retryAfter
        }
    }

    /// The attempt's charge on each bucket, handed back by `succeeded` / `failed`.
    package struct Charge: Sendable {
        fileprivate let keys: [String?]
    }

    private let policies: [Policy]
    private let capacity: Int
    private let clock: @Sendable () -> Double
    /// Per policy: key → the moment its debt is paid off.
    private let tables: NIOLockedValueBox<[[String: Double]]>

    /// `policies[0]` applies to the first key passed to `attempt`, `policies[1]` to the second…
    package init(policies: [Policy], capacity: Int = 100_000, clock: @escaping @Sendable () -> Double = { ClockTime.monotonicSeconds }) {
        self.policies = policies
        self.capacity = max(16, capacity)
        self.clock = clock
        tables = NIOLockedValueBox(Array(repeating: [:], count: policies.count))
    }

    /// Charges one attempt to each key (one per policy, in order; nil skips that policy), or
    /// refuses it, charging none, when any of them is out of attempts.
    package func attempt(_ keys: [String?]) throws(Refused) -> Charge {
        precondition(keys.count == policies.count)
        let now = clock()
        let wait = tables.withLockedValue { tables -> Double in
            let wait = self.wait(tables, keys, now: now)
            if wait <= 0 { charge(&tables, keys, now: now) }
            return wait
        }
        guard wait <= 0 else { throw Refused(retryAfter: max(1, Int(wait.rounded(.up)))) }
        return Charge(keys: keys)
    }

    /// Refuses when any key is out of attempts, charging nothing: for checks cheap enough to
    /// charge only when they fail (`failed`), so a burst of good requests is never refused.
    package func check(_ keys: [String?]) throws(Refused) {
        precondition(keys.count == policies.count)
        let now = clock()
        let wait = tables.withLockedValue { self.wait($0, keys, now: now) }
        guard wait <= 0 else { throw Refused(retryAfter: max(1, Int(wait.rounded(.up)))) }
    }

    /// Charges a failure found after the fact (see `check`).
    package func failed(_ keys: [String?]) {
        precondition(keys.count == policies.count)
        let now = clock()
        tables.withLockedValue { charge(&$0, keys, now: now) }
    }

    private func wait(_ tables: [[String: Double]], _ keys: [String?], now: Double) -> Double {
        var wait = 0.0
        for (index, key) in keys.enumerated() where policies[index].burst > 0 {
            guard let key else { continue }
            let policy = policies[index]
            let debt = max(0, (tables[index][key] ?? now) - now)
            wait = max(wait, debt - Double(policy.burst - 1) * policy.interval)
        }
        return wait
    }

    private func charge(_ tables: inout [[String: Double]], _ keys: [String?], now: Double) {
        for (index, key) in keys.enumerated() where policies[index].burst > 0 {
            guard let key else { continue }
            let paidOff = max(tables[index][key] ?? now, now) + policies[index].interval
            if tables[index][key] == nil, tables[index].count >= capacity { Self.shrink(&tables[index], now: now, to: capacity * 3 / 4) }
            tables[index][key] = paidOff
        }
    }

    /// The password was right: refund the attempt, and forget the first key's (the account's)
    /// failures altogether.
    package func succeeded(_ charge: Charge) {
        tables.withLockedValue { tables in
            for (index, key) in charge.keys.enumerated() where policies[index].burst > 0 {
                guard let key else { continue }
                if index == 0 {
                    tables[index][key] = nil
                } else if let paidOff = tables[index][key] {
                    tables[index][key] = paidOff - policies[index].interval
                }
            }
        }
    }

    /// The attempt never reached the password check (the server was too busy): refund it.
    package func refund(_ charge: Charge) {
        tables.withLockedValue { tables in
            for (index, key) in charge.keys.enumerated() where policies[index].burst > 0 {
                guard let key else { continue }
                if let paidOff = tables[index][key] { tables[index][key] = paidOff - policies[index].interval }
            }
        }
    }

    /// Keys tracked, over all policies (for tests and metrics).
    package var count: Int { tables.withLockedValue { $0.reduce(0) { $0 + $1.count } } }

    private static func shrink(_ table: inout [String: Double], now: Double, to target: Int) {
        table = table.filter { $0.value > now }
        guard table.count > target else { return }
        // Still full of keys in debt: drop those nearest to paid off.
        let kept = table.sorted { $0.value > $1.value }.prefix(target)
        table = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }
}
