import NIOCore
package import PitModel
package import PitStorage
import PostgresNIO

extension PostgresReadStore {
    package func profile(projectID: Int64, profileID: EventID) async throws -> StoredProfile? {
        let query = ProfileSQL.profile(projectID: projectID, profileID: profileID, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(query), logger: logger) {
            let cells = row.makeRandomAccess()
            let columns = try row.decode(ProfileColumns.self)
            let bytes = try cells[9].decode(ByteBuffer.self)
            let (payload, error) = EventRow.readPayload { try decompress(Array(bytes.readableBytesView), dictionaryID: nil) }
            return StoredProfile(row: Self.profileRow(columns), payload: payload, payloadError: error)
        }
        return nil
    }

    package func profiles(projectID: Int64, transactionID: EventID) async throws -> [ProfileRow] {
        try await profileRows(ProfileSQL.ofTransaction(projectID: projectID, transactionID: transactionID, dialect: Self.dialect))
    }

    package func profiles(traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> [ProfileRow] {
        try await profileRows(ProfileSQL.ofTrace(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect))
    }

    private func profileRows(_ statement: SQLStatement) async throws -> [ProfileRow] {
        var rows: [ProfileRow] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            rows.append(Self.profileRow(try row.decode(ProfileColumns.self)))
        }
        return rows
    }

    private typealias ProfileColumns = (Int64, ByteBuffer, ByteBuffer, ByteBuffer?, String, Int64, Int64, Int64, Int64)

    private static func profileRow(_ c: ProfileColumns) -> ProfileRow {
        ProfileRow(
            projectID: c.0, profileID: EventID(bytes: c.1.readableBytesView) ?? EventID(high: 0, low: 0),
            transactionID: EventID(bytes: c.2.readableBytesView) ?? EventID(high: 0, low: 0),
            traceID: c.3.flatMap { TraceID(bytes: $0.readableBytesView) }, platform: c.4, timestamp: c.5, duration: c.6, sampleCount: c.7,
            received: c.8)
    }
}
