package import Logging
import NIOConcurrencyHelpers
import NIOCore
import PitStorage
import PostgresNIO

/// Loads a payload dictionary synchronously, for `PayloadDictionaries`' loader: decompression is
/// synchronous, and it asks for a dictionary only the first time a payload refers to one this
/// process has not seen (trained by another instance). One session, behind a lock.
package final class PostgresPayloadDictionaryReader: Sendable {
    private let session: NIOLockedValueBox<PostgresSession>

    package init(url: PostgresDatabaseURL, logger: Logger) throws {
        session = NIOLockedValueBox(try PostgresSession(url: url, logger: logger))
    }

    package func dictionary(id: Int64) throws -> [UInt8]? {
        try session.withLockedValue { db in
            for row in try db.query("SELECT dictionary FROM payload_dictionaries WHERE id = \(id)") {
                return Array(try row.decode(ByteBuffer.self).readableBytesView)
            }
            return nil
        }
    }
}
