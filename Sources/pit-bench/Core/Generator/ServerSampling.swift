import Foundation

/// Reads the server's resource use once a second (for a spawned pitd, from /proc).
package protocol ServerSampling: Sendable {
    func sample(queueDepth: Int?, storedTotal: Int?) -> ServerSample
}

package struct ServerSample: Sendable, Codable, Equatable {
    package var rssBytes: Int?
    /// CPU in cores since the previous sample.
    package var cpu: Double?
    package var databaseBytes: Int?
    package var walBytes: Int?
    package var queueDepth: Int?
    /// The server's `pit_events_stored_total` at the end of the second.
    package var storedTotal: Int?

    package init(
        rssBytes: Int? = nil, cpu: Double? = nil, databaseBytes: Int? = nil, walBytes: Int? = nil, queueDepth: Int? = nil,
        storedTotal: Int? = nil
    ) {
        self.storedTotal = storedTotal
        self.rssBytes = rssBytes
        self.cpu = cpu
        self.databaseBytes = databaseBytes
        self.walBytes = walBytes
        self.queueDepth = queueDepth
    }
}
