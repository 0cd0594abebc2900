import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Creates API tokens: the secret is shown once and only its hash is stored.
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
}
