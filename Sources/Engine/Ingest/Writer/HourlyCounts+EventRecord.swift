package import PitStorage

extension HourlyCounts {
    package mutating func add(_ event: EventRecord, issueID: Int64, created: Bool) {
        let hour = Self.hour(ofMilliseconds: event.received)
        issues[Key(id: issueID, hour: hour), default: 0] += 1
        projects[Key(id: event.projectID, hour: hour), default: ProjectCounts()].events += 1
        if created { projects[Key(id: event.projectID, hour: hour), default: ProjectCounts()].newIssues += 1 }
    }
}
