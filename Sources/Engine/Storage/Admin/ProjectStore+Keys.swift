/// Key creation and rotation as every caller (API, web UI, CLI) does them, on any back end.
extension ProjectStore {
    /// A new key of `projectID` labelled `label`, limited to `rateLimit` when one is given.
    package func createKey(projectID: Int64, label: String?, rateLimit: ProjectKey.RateLimit?) async throws -> ProjectKey {
        let key = try await createKey(projectID: projectID, publicKey: nil, label: label)
        guard let rateLimit else { return key }
        return try await updateKey(id: key.id, label: nil, enabled: nil, rateLimit: .some(rateLimit)) ?? key
    }

    /// A fresh key with the old one's label and rate limit; the old key is disabled (not
    /// deleted: stored events keep pointing at it, and it can be re-enabled), so SDKs must move
    /// to the new DSN.
    package func rotateKey(_ key: ProjectKey) async throws -> ProjectKey {
        let fresh = try await createKey(projectID: key.projectID, label: key.label, rateLimit: key.rateLimit)
        _ = try await updateKey(id: key.id, label: nil, enabled: false, rateLimit: nil)
        return fresh
    }
}
