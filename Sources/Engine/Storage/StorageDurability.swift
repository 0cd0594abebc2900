/// How the writer commits, from the settings `synchronous` and `journal_mode`.
package struct StorageDurability: Sendable, Equatable {
    package enum Synchronous: String, Sendable, CaseIterable {
        case off = "OFF"
        case normal = "NORMAL"
        case full = "FULL"
    }
    package enum JournalMode: String, Sendable, CaseIterable {
        case wal = "WAL"
        case delete = "DELETE"
    }

    package var synchronous: Synchronous
    package var journalMode: JournalMode

    package init(synchronous: Synchronous = .normal, journalMode: JournalMode = .wal) {
        self.synchronous = synchronous
        self.journalMode = journalMode
    }
}
