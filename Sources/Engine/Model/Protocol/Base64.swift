import Foundation

/// Base64 for the rare paths that need it (Basic auth, legacy `/store/` bodies); not the hot path.
package enum Base64 {
    package static func decode(_ text: String) -> [UInt8]? {
        var padded = text.filter { !$0.isWhitespace }
        // Some old clients strip the padding.
        while padded.utf8.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map { [UInt8]($0) }
    }

    package static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
}
