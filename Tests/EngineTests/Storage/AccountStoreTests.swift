import Foundation
import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// Disabling accounts, password resets and admin token rotation, on both admin stores.
/// The directory holds the SQLite file; keep it alive while the stores are used.
private func stores() async throws -> (TemporaryDirectory, [(String, any AdminStore)]) {
    let directory = try TemporaryDirectory()
    var stores: [(String, any AdminStore)] = [("sqlite", try SQLiteAdminStore(path: directory.path("pit.db")))]
    if PostgresTestDatabase.adminURL != nil {
        stores.append(
            ("postgres", try await PostgresAdminStore.open(url: try PostgresTestDatabase.create(), logger: PostgresTestDatabase.logger)))
    }
    return (directory, stores)
}

private func session(for userID: Int64?, now: Int64) -> (WebSession, [UInt8]) {
    let hash = Secret.hash(Secret.generate(prefix: ""))
    return (WebSession(tokenHash: hash, userID: userID, csrfToken: "c", createdAt: now, expiresAt: now + 3_600_000), hash)
}

@Suite struct AccountStoreTests {
    /// Issue 10: users could not be disabled. A disabled user's sessions end and their API tokens
    /// are refused at once; enabling restores the tokens (sessions stay closed).
    @Test func disablingEndsSessionsAndRefusesTokens() async throws {
        let (directory, all) = try await stores()
        defer { withExtendedLifetime(directory) {} }
        for (name, store) in all {
            let now = ClockTime.nowMilliseconds
            let ada = try await store.createUser(email: "ada@example.com", passwordHash: "x", isAdmin: false)
            let bob = try await store.createUser(email: "bob@example.com", passwordHash: "x", isAdmin: false)
            #expect(ada.isActive, "\(name)")
            let (adaSession, adaSessionHash) = session(for: ada.id, now: now)
            let (bobSession, bobSessionHash) = session(for: bob.id, now: now)
            try await store.createSession(adaSession)
            try await store.createSession(bobSession)
            let adaToken = Secret.hash("pit_tok_ada")
            let bobToken = Secret.hash("pit_tok_bob")
            let cliToken = Secret.hash("pit_tok_cli")
            _ = try await store.createToken(hash: adaToken, prefix: "pit_tok_ada", label: "ada", scopes: [.read], userID: ada.id)
            _ = try await store.createToken(hash: bobToken, prefix: "pit_tok_bob", label: "bob", scopes: [.read], userID: bob.id)
            _ = try await store.createToken(hash: cliToken, prefix: "pit_tok_cli", label: "cli", scopes: [.read], userID: nil)

            let disabled = try #require(try await store.setUserActive(id: ada.id, active: false, now: now))
            #expect(!disabled.isActive && disabled.disabledAt == now, "\(name)")
            #expect(try await store.user(email: "ada@example.com")?.isActive == false, "\(name)")
            #expect(try await store.session(tokenHash: adaSessionHash, now: now) == nil, "\(name)")
            #expect(try await store.activeToken(hash: adaToken, now: now) == nil, "\(name)")
            // Nobody else is touched.
            #expect(try await store.session(tokenHash: bobSessionHash, now: now) != nil, "\(name)")
            #expect(try await store.activeToken(hash: bobToken, now: now) != nil, "\(name)")
            #expect(try await store.activeToken(hash: cliToken, now: now) != nil, "\(name)")
            // Disabling again keeps the first moment.
            #expect(try await store.setUserActive(id: ada.id, active: false, now: now + 5)?.disabledAt == now, "\(name)")

            #expect(try await store.setUserActive(id: ada.id, active: true, now: now)?.isActive == true, "\(name)")
            #expect(try await store.activeToken(hash: adaToken, now: now) != nil, "\(name)")
            #expect(try await store.session(tokenHash: adaSessionHash, now: now) == nil, "\(name)")
            #expect(try await store.setUserActive(id: 9999, active: false, now: now) == nil, "\(name)")
        }
    }

    /// Issue 10: API tokens survived an administrator's password reset.
    @Test func passwordResetRevokesTokensUnlessKept() async throws {
        let (directory, all) = try await stores()
        defer { withExtendedLifetime(directory) {} }
        for (name, store) in all {
            let now = ClockTime.nowMilliseconds
            let ada = try await store.createUser(email: "ada@example.com", passwordHash: "old", isAdmin: true)
            let first = Secret.hash("pit_tok_1")
            let second = Secret.hash("pit_tok_2")
            let other = Secret.hash("pit_tok_3")
            _ = try await store.createToken(hash: first, prefix: "pit_tok_1", label: "1", scopes: [.admin], userID: ada.id)
            _ = try await store.createToken(hash: second, prefix: "pit_tok_2", label: "2", scopes: [.read], userID: ada.id)
            _ = try await store.createToken(hash: other, prefix: "pit_tok_3", label: "3", scopes: [.read], userID: nil)
            let (s1, h1) = session(for: ada.id, now: now)
            try await store.createSession(s1)

            #expect(try await store.setPassword(userID: ada.id, passwordHash: "kept", revokeTokens: false) == 0, "\(name)")
            #expect(try await store.session(tokenHash: h1, now: now) == nil, "\(name)")
            #expect(try await store.activeToken(hash: first, now: now) != nil, "\(name)")

            #expect(try await store.setPassword(userID: ada.id, passwordHash: "new", revokeTokens: true) == 2, "\(name)")
            #expect(try await store.user(id: ada.id)?.passwordHash == "new", "\(name)")
            #expect(try await store.activeToken(hash: first, now: now) == nil, "\(name)")
            #expect(try await store.activeToken(hash: second, now: now) == nil, "\(name)")
            #expect(try await store.activeToken(hash: other, now: now) != nil, "\(name)")
            #expect(try await store.tokens().filter(\.isRevoked).count == 2, "\(name)")
        }
    }

    /// Rotating the admin token replaces its hash and closes the sessions it opened, not users'.
    @Test func replacingTheAdminTokenClosesItsSessions() async throws {
        let (directory, all) = try await stores()
        defer { withExtendedLifetime(directory) {} }
        for (name, store) in all {
            let now = ClockTime.nowMilliseconds
            _ = try await store.settingIfAbsent("admin_token_sha256", "old-hash")
            let ada = try await store.createUser(email: "ada@example.com", passwordHash: "x", isAdmin: true)
            let (adminSession, adminHash) = session(for: nil, now: now)
            let (userSession, userHash) = session(for: ada.id, now: now)
            try await store.createSession(adminSession)
            try await store.createSession(userSession)
            try await store.replaceAdminToken(settingKey: "admin_token_sha256", hash: "new-hash")
            #expect(try await store.setting("admin_token_sha256") == "new-hash", "\(name)")
            #expect(try await store.session(tokenHash: adminHash, now: now) == nil, "\(name)")
            #expect(try await store.session(tokenHash: userHash, now: now) != nil, "\(name)")
        }
    }
}
