import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which peers are reverse proxies whose forwarding headers say who the client is
/// (`trusted_proxies`), and the client address that follows from a request.
///
/// Per-address limits (the sign-in throttle) key on the client address. Behind a proxy the peer
/// is the proxy, so every client shared one allowance; but the forwarding headers are written by
/// whoever sends the request, so they are believed only when the peer is a listed proxy, and then
/// only as far as the chain of listed proxies goes: proxies append the address they received the
/// request from, so the right-most hop that is not a listed proxy is the first address no one
/// but a trusted proxy wrote. Anything left of it is the client's to invent.
package struct TrustedProxies: Sendable, Equatable {
    package let networks: [IPNetwork]

    package init(networks: [IPNetwork] = []) {
        self.networks = networks
    }

    /// Addresses and CIDR blocks separated by commas or spaces: `10.0.0.0/8, 192.168.1.10, ::1`.
    package init(_ entries: [String]) throws(Invalid) {
        var networks: [IPNetwork] = []
        for entry in entries.flatMap({ $0.split(whereSeparator: { $0 == "," || $0 == " " }) }) where !entry.isEmpty {
            guard let network = IPNetwork(String(entry)) else { throw Invalid(entry: String(entry)) }
            networks.append(network)
        }
        self.networks = networks
    }

    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package let entry: String
        package var description: String { "trusted_proxies: \(entry) is not an IP address or CIDR block (10.0.0.0/8, ::1/128)" }
    }

    package var isEmpty: Bool { networks.isEmpty }

    package func contains(_ address: String) -> Bool {
        guard let bytes = IPNetwork.parseAddress(address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }

    /// The client's address: `peer` itself unless it is a trusted proxy; then the right-most hop
    /// of `X-Forwarded-For` (all its fields, in order) that is not a trusted proxy, else of
    /// `Forwarded` (RFC 7239 `for=`) when there is no `X-Forwarded-For`. A hop that is not an IP
    /// address (`unknown`, an obfuscated RFC 7239 name) ends the walk at the last address known.
    package func clientAddress(peer: String, forwardedFor: [String], forwarded: [String]) -> String {
        guard !networks.isEmpty, contains(peer) else { return peer }
        let hops: [String]
        if !forwardedFor.isEmpty {
            hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { Self.stripPort($0.trimmingCharacters(in: .whitespaces)) }
        } else {
            hops = forwarded.flatMap { $0.split(separator: ",") }.compactMap { Self.forwardedFor(String($0)) }
        }
        var client = peer
        for hop in hops.reversed() {
            guard let bytes = IPNetwork.parseAddress(hop) else { break }
            client = IPNetwork.format(bytes)
            if !networks.contains(where: { $0.contains(bytes) }) { break }
        }
        return client
    }

    /// The `for=` of one RFC 7239 element: `for=192.0.2.60;proto=http`, `For="[2001:db8::17]:4711"`.
    private static func forwardedFor(_ element: String) -> String? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "for" else { continue }
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return stripPort(value)
        }
        return nil
    }

    /// `[v6]:port` → v6, `v4:port` → v4; a bare v6 address is left alone.
    private static func stripPort(_ text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { return String(text[..<colon]) }
        return text
    }
}

/// An IPv4 or IPv6 block. IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, how a dual-stack
/// socket reports an IPv4 peer) are matched as the IPv4 address they carry.
package struct IPNetwork: Sendable, Equatable {
    package let address: [UInt8]
    package let prefixLength: Int

    package init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parseAddress(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    package func contains(_ other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        var remaining = prefixLength
        for index in 0..<address.count where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if address[index] & mask != other[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6; nil for anything else.
    package static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        // A zone (fe80::1%eth0) names an interface, not part of the address.
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }

    /// The canonical text of an address from `parseAddress`.
    package static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return "" }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
