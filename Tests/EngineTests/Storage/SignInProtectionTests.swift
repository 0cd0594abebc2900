import Foundation
import NIOConcurrencyHelpers
import PitStorage
import SQLiteStore
import Testing

/// What stands between an online password guesser and the accounts (and everyone else's CPU):
/// the throttle, the bounded hashing pool, and the hash parameters.
@Suite struct SignInProtectionTests {
    final class ManualClock: Sendable {
        let now = NIOLockedValueBox(1000.0)
        func advance(_ seconds: Double) { now.withLockedValue { $0 += seconds } }
        var read: @Sendable () -> Double { { self.now.withLockedValue { $0 } } }
    }

    @Test func anAccountGetsItsBurstThenOneAttemptPerInterval() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 3, interval: 60), .init(burst: 100, interval: 1)], clock: clock.read)
        for n in 0..<3 { _ = try throttle.attempt(["ops@example.com", "10.0.0.\(n)"]) }
        // From any address: the account is out of attempts for a minute.
        #expect(throws: LoginThrottle.Refused(retryAfter: 60)) { try throttle.attempt(["ops@example.com", "10.0.0.9"]) }
        _ = try throttle.attempt(["someone-else@example.com", "10.0.0.9"])
        clock.advance(59)
        #expect(throws: LoginThrottle.Refused(retryAfter: 1)) { try throttle.attempt(["ops@example.com", "10.0.0.9"]) }
        clock.advance(1)
        _ = try throttle.attempt(["ops@example.com", "10.0.0.9"])
        #expect(throws: LoginThrottle.Refused.self) { try throttle.attempt(["ops@example.com", "10.0.0.9"]) }
    }

    @Test func anAddressIsThrottledAcrossAccountsAndNilSkipsAPolicy() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 100, interval: 60), .init(burst: 2, interval: 10)], clock: clock.read)
        _ = try throttle.attempt(["a@example.com", "10.0.0.1"])
        _ = try throttle.attempt([nil, "10.0.0.1"])
        #expect(throws: LoginThrottle.Refused(retryAfter: 10)) { try throttle.attempt(["b@example.com", "10.0.0.1"]) }
        _ = try throttle.attempt(["b@example.com", "10.0.0.2"])
    }

    @Test func successClearsTheAccountAndRefundsTheAddress() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 2, interval: 60), .init(burst: 3, interval: 10)], clock: clock.read)
        _ = try throttle.attempt(["a@example.com", "10.0.0.1"])
        let charge = try throttle.attempt(["a@example.com", "10.0.0.1"])
        throttle.succeeded(charge)
        // The account starts afresh; the address kept its one failure and got the success back.
        _ = try throttle.attempt(["a@example.com", "10.0.0.1"])
        _ = try throttle.attempt(["a@example.com", "10.0.0.1"])
        #expect(throws: LoginThrottle.Refused.self) { try throttle.attempt(["c@example.com", "10.0.0.1"]) }
    }

    @Test func cheapChecksAreChargedOnlyWhenTheyFail() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 0, interval: 60), .init(burst: 2, interval: 10)], clock: clock.read)
        // Any number of good requests at once.
        for _ in 0..<100 { try throttle.check([nil, "10.0.0.1"]) }
        throttle.failed([nil, "10.0.0.1"])
        throttle.failed([nil, "10.0.0.1"])
        #expect(throws: LoginThrottle.Refused(retryAfter: 10)) { try throttle.check([nil, "10.0.0.1"]) }
        try throttle.check([nil, "10.0.0.2"])
    }

    @Test func refusedAttemptsChargeNothing() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 1, interval: 60), .init(burst: 5, interval: 10)], clock: clock.read)
        _ = try throttle.attempt(["a@example.com", "10.0.0.1"])
        for _ in 0..<10 { #expect(throws: LoginThrottle.Refused.self) { try throttle.attempt(["a@example.com", "10.0.0.1"]) } }
        // Ten refusals later the address has spent only its first attempt.
        for n in 0..<4 { _ = try throttle.attempt(["x\(n)@example.com", "10.0.0.1"]) }
    }

    @Test func theTableStaysBoundedAndKeepsTheKeysDeepestInDebt() async throws {
        let clock = ManualClock()
        let throttle = LoginThrottle(policies: [.init(burst: 3, interval: 60)], capacity: 1000, clock: clock.read)
        for _ in 0..<3 { _ = try throttle.attempt(["victim@example.com"]) }
        for n in 0..<100_000 { _ = try throttle.attempt(["guess\(n)@example.com"]) }
        #expect(throttle.count <= 1000)
        #expect(throws: LoginThrottle.Refused.self, "a flood of other keys did not reset the account under attack") {
            try throttle.attempt(["victim@example.com"])
        }
        clock.advance(3600)
        _ = try throttle.attempt(["victim@example.com"])
    }

    @Test func hashesCarryTheirParametersAndOldOnesAskForARehash() async throws {
        #expect(PasswordHash.defaultLogN == 17 && PasswordHash.defaultR == 8 && PasswordHash.defaultP == 1, "OWASP's scrypt parameters")
        // A low cost: scrypt runs synchronously on the test pool, and BoringSSL is unoptimised in debug builds.
        let old = try PasswordHash.make("correct horse battery", logN: 10)
        #expect(old.hasPrefix("scrypt$10$8$1$"))
        #expect(PasswordHash.needsRehash(old))
        #expect(PasswordHash.verify("correct horse battery", against: old), "old hashes still verify")
        #expect(!PasswordHash.needsRehash("scrypt$17$8$1$AAAA$AAAA"))
        #expect(PasswordHash.needsRehash("scrypt$17$4$1$AAAA$AAAA"))
        #expect(PasswordHash.needsRehash("plain"))
    }

    @Test func theHasherRefusesWorkBeyondItsLineAtOnce() async throws {
        let hasher = PasswordHasher(threads: 1, queueLimit: 1)
        let stored = try PasswordHash.make("pw", logN: 14)
        let started = ContinuousClock.now
        let outcomes = await withTaskGroup(of: Bool?.self) { group in
            for _ in 0..<8 { group.addTask { try? await hasher.verify("pw", against: stored) } }
            return await group.reduce(into: [Bool?]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == true }.count >= 2, "one running and one waiting were served")
        #expect(outcomes.contains(nil), "the rest were refused")
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(hasher.load == 0)
        #expect(try await hasher.verify("wrong", against: nil) == false, "no account: a decoy hash, and false")
    }

    @Test func anUpgradedHashReplacesOnlyTheOneItWasMadeFrom() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteAdminStore(path: directory.path("pit.db"))
        let user = try await store.createUser(email: "ops@example.com", passwordHash: "old", isAdmin: false)
        let session = WebSession(tokenHash: Secret.hash("cookie"), userID: user.id, csrfToken: "c", createdAt: 0, expiresAt: 1000)
        try await store.createSession(session)
        #expect(try await store.upgradePasswordHash(userID: user.id, from: "old", to: "new"))
        #expect(try await store.user(id: user.id)?.passwordHash == "new")
        #expect(try await store.session(tokenHash: Secret.hash("cookie"), now: 1) != nil, "nobody was signed out")
        #expect(try await !store.upgradePasswordHash(userID: user.id, from: "old", to: "newer"), "changed meanwhile: left alone")
        #expect(try await store.user(id: user.id)?.passwordHash == "new")
    }
}
