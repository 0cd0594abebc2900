import Foundation
import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// The same admin operations against SQLite's and PostgreSQL's admin stores give the same
/// answers and the same refusals: the rules are shared, and each back end's SQL must mean the
/// same. Compared as transcripts without ids of rows that are not chosen by the caller, random
/// keys or clock readings. Runs when PIT_TEST_DATABASE_URL names a PostgreSQL server.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresAdminParityTests {
    @Test func sameOperationsSameAnswers() async throws {
        let database = try PostgresTestDatabase.create()
        let directory = try TemporaryDirectory()
        let sqlite = try SQLiteAdminStore(path: directory.path("pit.db"))
        let postgres = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        let left = try await Self.transcript(sqlite)
        let right = try await Self.transcript(postgres)
        await postgres.close()
        #expect(left.count == right.count)
        for (line, (a, b)) in zip(left, right).enumerated() {
            #expect(a == b, "step \(line)")
        }
    }

    private static func outcome<T>(_ body: () async throws -> T, _ describe: (T) -> String) async -> String {
        do {
            return describe(try await body())
        } catch let error as AdminError {
            return "refused \(error.code): \(error.message)"
        } catch {
            return "failed: \(error)"
        }
    }

    private static func describe(_ project: Project?) -> String {
        guard let project else { return "no project" }
        return "project \(project.id) \(project.organizationSlug)/\(project.slug) '\(project.name)' \(project.platform ?? "-")"
    }

    private static func describe(_ key: ProjectKey?) -> String {
        guard let key else { return "no key" }
        let limit = key.rateLimit.map { "\($0.count)/\($0.windowSeconds)s" } ?? "unlimited"
        return "key of \(key.projectID) '\(key.label)' \(key.enabled ? "enabled" : "disabled") \(limit)"
    }

    private static func describe(_ user: User?) -> String {
        guard let user else { return "no user" }
        return "user \(user.email) admin=\(user.isAdmin) active=\(user.isActive)"
    }

    private static func describe(_ token: APIToken?) -> String {
        guard let token else { return "no token" }
        return "token '\(token.label)' \(token.scopes.map(\.rawValue)) revoked=\(token.isRevoked) used=\(token.lastUsedAt != nil)"
    }

    static func transcript(_ admin: any AdminStore) async throws -> [String] {
        var lines: [String] = []
        func record<T>(_ body: () async throws -> T, _ describe: (T) -> String) async { lines.append(await outcome(body, describe)) }

        // Projects: defaults, slugs made unique, chosen ids, names.
        await record({ try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default") }, describe)
        await record({ try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "other") }, describe)
        await record({ try await admin.createProject(name: "My App", id: nil, platform: "python") }, describe)
        await record({ try await admin.createProject(name: "my app!", id: nil, platform: nil) }, describe)
        await record({ try await admin.createProject(name: "Imported", id: 42, platform: nil) }, describe)
        await record({ try await admin.createProject(name: "Again", id: 42, platform: nil) }, describe)
        await record({ try await admin.createProject(name: "Zero", id: 0, platform: nil) }, describe)
        await record({ try await admin.renameProject(id: 42, name: "  Renamed  ") }, describe)
        await record({ try await admin.renameProject(id: 42, name: " ") }, describe)
        await record({ try await admin.renameProject(id: 999, name: "Nobody") }, describe)
        await record({ try await admin.project(organizationSlug: "pit", slug: "my-app-2") }, describe)
        await record({ try await admin.projects().map(describe).joined(separator: "; ") }, { $0 })

        // Keys: chosen and refused public keys, labels, limits, rotation.
        await record({ try await admin.createKey(projectID: 42, publicKey: "custom-key", label: nil) }, describe)
        await record({ try await admin.createKey(projectID: 42, publicKey: "custom-key", label: "dup") }, describe)
        await record({ try await admin.createKey(projectID: 42, publicKey: "not a key", label: nil) }, describe)
        await record({ try await admin.createKey(projectID: 999, publicKey: nil, label: nil) }, describe)
        let custom = try await admin.keys(projectID: 42).first { $0.publicKey == "custom-key" }!
        await record(
            { try await admin.updateKey(id: custom.id, label: String(repeating: "l", count: 250), enabled: nil, rateLimit: nil) },
            { "label of \($0?.label.count ?? 0) characters" })
        let limit = ProjectKey.RateLimit(count: 5, windowSeconds: 60)
        await record({ try await admin.updateKey(id: custom.id, label: "Web", enabled: nil, rateLimit: .some(limit)) }, describe)
        let floorless = ProjectKey.RateLimit(count: 5, windowSeconds: 0)
        await record({ try await admin.updateKey(id: custom.id, label: nil, enabled: nil, rateLimit: .some(floorless)) }, describe)
        await record({ try await admin.rotateKey(custom) }, describe)
        await record({ try await admin.key(id: custom.id) }, describe)
        await record({ try await admin.keys(projectID: 42).map(describe).joined(separator: "; ") }, { $0 })
        await record({ try await admin.keys(projectID: nil).count }, { "\($0) keys" })

        // Settings.
        await record({ try await admin.setting("a") }, { $0 ?? "unset" })
        await record({ try await admin.settingIfAbsent("a", "1") }, { $0 })
        await record({ try await admin.settingIfAbsent("a", "2") }, { $0 })
        await record({ try await admin.setSetting("a", "3") }, { "set" })
        await record({ try await admin.setting("a") }, { $0 ?? "unset" })

        // Accounts: emails compare without case; refusals; passwords; disabling.
        await record({ try await admin.createUser(email: " Ada@Example.com ", passwordHash: "h1", isAdmin: true) }, describe)
        await record({ try await admin.createUser(email: "ada@example.com", passwordHash: "h2", isAdmin: false) }, describe)
        await record({ try await admin.createUser(email: "not-an-email", passwordHash: "h", isAdmin: false) }, describe)
        await record({ try await admin.user(email: "ADA@example.com") }, describe)
        let ada = try await admin.user(email: "ada@example.com")!
        await record({ try await admin.upgradePasswordHash(userID: ada.id, from: "wrong", to: "h3") }, { "upgraded \($0)" })
        await record({ try await admin.upgradePasswordHash(userID: ada.id, from: "h1", to: "h3") }, { "upgraded \($0)" })

        // Sessions and tokens.
        let now: Int64 = 1_000_000
        let lasting = WebSession(tokenHash: [1], userID: ada.id, csrfToken: "c", createdAt: now, expiresAt: now + 10)
        let brief = WebSession(tokenHash: [2], userID: nil, csrfToken: "c", createdAt: now, expiresAt: now + 1)
        await record({ try await admin.createSession(lasting) }, { "session created" })
        await record({ try await admin.createSession(brief) }, { "session created" })
        await record({ try await admin.session(tokenHash: [1], now: now + 5)?.csrfToken }, { $0 ?? "no session" })
        await record({ try await admin.deleteExpiredSessions(now: now + 5) }, { "\($0) expired" })
        await record({ try await admin.createToken(hash: [9], prefix: "pit_tok_", label: "none", scopes: [], userID: nil) }, describe)
        await record(
            { try await admin.createToken(hash: [7], prefix: "pit_tok_", label: "ci", scopes: [.read, .write], userID: ada.id) }, describe)
        await record({ try await admin.activeToken(hash: [7], now: now) }, describe)
        await record({ try await admin.activeToken(hash: [7], now: now) }, describe)
        await record({ try await admin.setUserActive(id: ada.id, active: false, now: now) }, describe)
        await record({ try await admin.activeToken(hash: [7], now: now) }, describe)
        await record({ try await admin.session(tokenHash: [1], now: now + 5) }, { $0 == nil ? "signed out" : "still signed in" })
        await record({ try await admin.setUserActive(id: ada.id, active: true, now: now) }, describe)
        await record({ try await admin.setPassword(userID: ada.id, passwordHash: "h4", revokeTokens: true) }, { "\($0) revoked" })
        await record({ try await admin.tokens().map(describe).joined(separator: "; ") }, { $0 })
        let token = try await admin.tokens()[0]
        await record({ try await admin.revokeToken(id: token.id, now: now) }, { "revoked \($0)" })
        await record({ try await admin.revokeToken(id: 12345, now: now) }, { "revoked \($0)" })
        await record({ try await admin.replaceAdminToken(settingKey: "admin_token_sha256", hash: "abc") }, { "replaced" })
        await record({ try await admin.setting("admin_token_sha256") }, { $0 ?? "unset" })
        await record({ try await admin.users().map(describe).joined(separator: "; ") }, { $0 })
        return lines
    }
}
