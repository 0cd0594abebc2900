import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Creates API tokens and organization tokens: the secret is shown once and only its hash is stored.
struct TokenIssuer: Sendable {
    let admin: AdminAccess

    func issue(label: String, scopes: [TokenScope], userID: Int64?) async throws -> (APIToken, String) {
        let plain = Secret.generate(prefix: "pit_tok_")
        let token = try await admin({
            try await $0.createToken(
                hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: label,
                scopes: scopes, userID: userID)
        })
        return (token, plain)
    }

    /// A Sentry organization auth token (`sntrys_…`) for CI: it names this server and the
    /// organisation, so `SENTRY_AUTH_TOKEN` alone configures sentry-cli.
    func issueOrganizationToken(label: String, organization: String, url: String, userID: Int64?) async throws -> (APIToken, String) {
        let plain = OrganizationToken.generate(organization: organization, url: url, now: ClockTime.nowMilliseconds)
        let token = try await admin({
            try await $0.createToken(
                hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: label, scopes: OrganizationToken.scopes, userID: userID)
        })
        return (token, plain)
    }
}
