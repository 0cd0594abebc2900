package import PitModel
package import PitStorage

extension SQLiteReadStore {
    package func profile(projectID: Int64, profileID: EventID) async throws -> StoredProfile? {
        try await read { [self] db in
            try db.query(ProfileSQL.profile(projectID: projectID, profileID: profileID, dialect: Self.dialect)) { row in
                let blob = row.blob(9)
                let (payload, error) = EventRow.readPayload { try decompress(blob, dictionaryID: nil) }
                return StoredProfile(row: Self.profileRow(row), payload: payload, payloadError: error)
            }.first
        }
    }

    package func profiles(projectID: Int64, transactionID: EventID) async throws -> [ProfileRow] {
        try await read { db in
            try db.query(
                ProfileSQL.ofTransaction(projectID: projectID, transactionID: transactionID, dialect: Self.dialect), Self.profileRow)
        }
    }

    package func profiles(traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> [ProfileRow] {
        try await read { db in
            try db.query(ProfileSQL.ofTrace(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect), Self.profileRow)
        }
    }

    private static func profileRow(_ row: SQLiteStatement) -> ProfileRow {
        ProfileRow(
            projectID: row.int(0), profileID: EventID(bytes: row.blob(1)) ?? EventID(high: 0, low: 0),
            transactionID: EventID(bytes: row.blob(2)) ?? EventID(high: 0, low: 0),
            traceID: row.isNull(3) ? nil : TraceID(bytes: row.blob(3)),
            platform: row.text(4) ?? "", timestamp: row.int(5), duration: row.int(6), sampleCount: row.int(7), received: row.int(8))
    }
}
