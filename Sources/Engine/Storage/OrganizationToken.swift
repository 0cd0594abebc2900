import Foundation
import PitModel

/// Sentry's organization auth tokens: `sntrys_` + base64(JSON payload) + `_` + base64 of 32
/// random bytes (unpadded). The payload carries the server's URL and the organisation, so
/// sentry-cli configures itself from `SENTRY_AUTH_TOKEN` alone; it parses the payload with
/// padded standard base64 and requires `region_url`. Like any API token, only the SHA-256 of
/// the whole token is stored (`Secret.hash`), and it authenticates through the same lookup.
package enum OrganizationToken {
    package static let prefix = "sntrys_"
    /// What the token may do: Sentry's `org:ci` (releases, source maps, debug files).
    package static let scopes: [TokenScope] = [.write]

    package static func generate(organization: String, url: String, now: Int64) -> String {
        var payload = JSONWriter()
        payload.beginObject()
        payload.key("iat")
        payload.value(now / 1000)
        payload.field("url", url)
        payload.field("region_url", url)
        payload.field("org", organization)
        payload.endObject()
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var encodedSecret = Data(secret).base64EncodedString()
        while encodedSecret.hasSuffix("=") { encodedSecret.removeLast() }
        return prefix + Data(payload.string.utf8).base64EncodedString() + "_" + encodedSecret
    }

    package static func isOrganizationToken(_ token: APIToken) -> Bool { token.prefix.hasPrefix(prefix) }
}
