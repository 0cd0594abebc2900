/// How the writer commits, from the settings `synchronous` and `journal_mode`.
package struct StorageDurability: Sendable, Equatable {
    package enum Synchronous: String, Sendable, CaseIterable { case off = "OFF", normal = "NORMAL", full = "FULL" }
    package enum JournalMode: String, Sendable, CaseIterable { case wal = "WAL", delete = "DELETE" }

    package var synchronous: Synchronous
    package var journalMode: JournalMode

    package init(synchronous: Synchronous = .normal, journalMode: JournalMode = .wal) {
        self.synchronous = synchronous
        self.journalMode = journalMode
    }
}
