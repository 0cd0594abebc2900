package import Crypto
import Foundation

/// Seals channel secrets (webhook signing secrets, SMTP passwords) at rest with AES-GCM. The key
/// is `PIT_SECRET_KEY` (any text, hashed to 256 bits) or, without it, 32 random bytes in the data
/// directory's `secret.key`, created readable by its owner only on first use: a copy of the
/// database alone does not give the secrets away.
package struct SecretBox: Sendable {
    /// The key's bytes: `SymmetricKey` itself is not `Sendable`, and a box is shared by tasks.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    package init(key: SymmetricKey) {
        keyBytes = key.withUnsafeBytes { Array($0) }
    }

    package static let keyFileName = "secret.key"
    package static let environmentVariable = "PIT_SECRET_KEY"

    /// The key of the data directory `directory` (or of `PIT_SECRET_KEY`), creating its file when needed.
    package static func forDataDirectory(
        _ directory: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SecretBox {
        if let text = environment[environmentVariable], !text.isEmpty {
            return SecretBox(key: SymmetricKey(data: SHA256.hash(data: Data(text.utf8))))
        }
        let path = (directory as NSString).appendingPathComponent(keyFileName)
        if let existing = FileManager.default.contents(atPath: path), existing.count == 32 {
            return SecretBox(key: SymmetricKey(data: existing))
        }
        let fresh = SymmetricKey(size: .bits256)
        let bytes = fresh.withUnsafeBytes { Data($0) }
        // O_EXCL: two processes creating the key at once must not end up with different keys.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        if descriptor < 0 {
            if errno == EEXIST, let existing = FileManager.default.contents(atPath: path), existing.count == 32 {
                return SecretBox(key: SymmetricKey(data: existing))
            }
            throw SecretBoxError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw SecretBoxError(message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return SecretBox(key: fresh)
    }

    package func seal(_ secret: String) throws -> [UInt8] {
        guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key).combined else {
            throw SecretBoxError(message: "the secret could not be sealed")
        }
        return Array(combined)
    }

    package func unseal(_ sealed: [UInt8]) throws -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: Data(sealed))
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw SecretBoxError(
                message: "a stored secret cannot be opened with this key (was \(Self.keyFileName) or \(Self.environmentVariable) changed?)")
        }
    }
}

package struct SecretBoxError: Error, CustomStringConvertible {
    package let message: String
    package var description: String { message }
}
