import Foundation

/// The settings a sweep ramps: every combination of the values given for each setting pitd
/// exposes for tuning the write path. `tune` later reads these settings back from the recorded
/// ramps, so a setting the sweep never varied is one `tune` can never recommend.
package struct SweepPlan: Sendable, Equatable {
    package struct Point: Sendable, Equatable {
        /// The results folder's name: `sweep-b1000-normal-committed`, with `-d5000` after the batch
        /// size when the point waits for company before committing.
        package var label: String
        package var settings: [String: String]
    }

    package var batchSizes: [String]
    package var commitDelays: [String]
    package var synchronous: [String]
    package var ack: [String]

    /// Comma-separated lists, as typed on the command line.
    package init(batchSizes: String, commitDelays: String, synchronous: String, ack: String) {
        func values(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        self.batchSizes = values(batchSizes)
        self.commitDelays = values(commitDelays)
        self.synchronous = values(synchronous)
        self.ack = values(ack)
    }

    package var points: [Point] {
        var points: [Point] = []
        for batch in batchSizes {
            for delay in commitDelays {
                for sync in synchronous {
                    for ackMode in ack {
                        let delayLabel = Int(delay) == 0 ? "" : "-d\(delay)"
                        points.append(
                            Point(
                                label: "sweep-b\(batch)\(delayLabel)-\(sync.lowercased())-\(ackMode)",
                                settings: [
                                    "ingest_batch_size": batch, "commit_delay_us": delay, "synchronous": sync, "ack": ackMode,
                                ]))
                    }
                }
            }
        }
        return points
    }
}
