import Crypto
import Foundation
package import Logging
import PitBackends
package import PitStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Creates and opens a data directory and its database (SQLite in the directory, or PostgreSQL; migrated), the default organisation,
/// project and DSN key, and the admin token. Idempotent: an existing secret is never replaced.
package struct DataDirectory {
    package let settings: PitSettings

    package init(settings: PitSettings) {
        self.settings = settings
    }

    package struct Setup {
        package var project: Project
        package var key: ProjectKey
        /// The admin token in plain text when it can be shown (just created, or the operator's
        /// 0600 token file still exists); nil otherwise.
        package var adminToken: String?
        package var createdToken: Bool
        package var store: any AdminStore
    }

    static let adminTokenHashSetting = "admin_token_sha256"

    package func initialise(logger: Logger = Logger(label: "pitd")) async throws -> Setup {
        try FileManager.default.createDirectory(
            atPath: settings.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let store = try await settings.backend.makeAdminStore(logger: logger)
        let project = try await store.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let keys = try await store.keys(projectID: project.id)
        guard let key = keys.first(where: \.enabled) ?? keys.first else {
            throw PitSettings.Invalid(description: "project \(project.id) has no DSN key")
        }
        // The database keeps only a hash of the admin token; the plain token is written once to a
        // file only the owner can read, so `pitd init` can show it again.
        let candidate = AdminToken.generate()
        let storedHash = try await store.settingIfAbsent(Self.adminTokenHashSetting, AdminToken.hash(candidate))
        let created = storedHash == AdminToken.hash(candidate)
        var token: String?
        if created {
            try SecretFile.store(candidate + "\n", at: settings.adminTokenPath)
            token = candidate
        } else if let saved = try? String(contentsOfFile: settings.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), AdminToken.hash(saved) == storedHash
        {
            token = saved
        }
        return Setup(project: project, key: key, adminToken: token, createdToken: created, store: store)
    }

    /// Replaces the admin token: a new one is made, its hash replaces the old one's (which
    /// stops working, and the browser sessions it opened are closed), and the file is rewritten.
    /// The new file is written before the database changes and moved into place after, so a
    /// failure leaves either the old token working with its file or the new one with its file.
    package func rotateAdminToken(store: any AdminStore) async throws -> String {
        let token = AdminToken.generate()
        let staged = settings.adminTokenPath + ".new"
        try SecretFile.store(token + "\n", at: staged)
        do {
            try await store.replaceAdminToken(settingKey: Self.adminTokenHashSetting, hash: AdminToken.hash(token))
        } catch {
            try? FileManager.default.removeItem(atPath: staged)
            throw error
        }
        guard rename(staged, settings.adminTokenPath) == 0 else {
            throw PitSettings.Invalid(
                description:
                    "the admin token changed, but \(staged) could not replace \(settings.adminTokenPath): \(String(cString: strerror(errno)))"
            )
        }
        return token
    }

    package func dsn(for key: ProjectKey) -> String { Self.dsn(publicURL: settings.publicURL, key: key) }

    static func dsn(publicURL: String, key: ProjectKey) -> String {
        guard let url = URL(string: publicURL), let scheme = url.scheme, let host = url.host else {
            return "\(publicURL)/\(key.projectID)"
        }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path.hasSuffix("/") ? String(url.path.dropLast()) : url.path
        return "\(scheme)://\(key.publicKey)@\(host)\(port)\(path)/\(key.projectID)"
    }
}

/// A file only its owner can read, created with that mode: writing it first and changing the
/// mode after would leave the secret readable by everyone for a moment.
enum SecretFile {
    static func store(_ text: String, at path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PitSettings.Invalid(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw PitSettings.Invalid(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Admin and API tokens: random, shown once, stored as SHA-256, compared in constant time.
enum AdminToken {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "pit_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Compares the hash of `presented` with `storedHash` without an early exit.
    static func matches(_ presented: String, storedHash: String) -> Bool {
        let a = Array(hash(presented).utf8)
        let b = Array(storedHash.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
