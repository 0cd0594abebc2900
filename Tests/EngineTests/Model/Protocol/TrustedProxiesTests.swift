import PitModel
import Testing

@Suite struct TrustedProxiesTests {
    private let proxies = try! TrustedProxies(["10.0.0.0/8, 192.168.1.10", "::1", "fd00::/8"])

    /// Issue 10: behind a reverse proxy every client shared the proxy's sign-in allowance. The
    /// forwarded address counts only when the peer is a listed proxy.
    @Test func forwardedAddressCountsOnlyFromATrustedPeer() {
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["198.51.100.7"], forwarded: []) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "203.0.113.9", forwardedFor: ["198.51.100.7"], forwarded: []) == "203.0.113.9")
        #expect(TrustedProxies().clientAddress(peer: "10.1.2.3", forwardedFor: ["198.51.100.7"], forwarded: []) == "10.1.2.3")
        // A trusted peer that forwards nothing is the client itself.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: [], forwarded: []) == "10.1.2.3")
    }

    /// A client may send its own X-Forwarded-For; the proxy appends the address it saw, so
    /// whatever the client wrote left of that is never taken.
    @Test func rightMostUntrustedHopWins() {
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4, 198.51.100.7"], forwarded: []) == "198.51.100.7")
        // Two proxies in a row: skip both.
        #expect(
            proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4, 198.51.100.7, 192.168.1.10"], forwarded: [])
                == "198.51.100.7")
        // Repeated header fields are one list, in order.
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4", "198.51.100.7"], forwarded: []) == "198.51.100.7")
        // Every hop a proxy: the left-most.
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["10.9.9.9, 10.0.0.5"], forwarded: []) == "10.9.9.9")
        // Garbage where an address should be: the last address known.
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["198.51.100.7, unknown"], forwarded: []) == "10.0.0.2")
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["evil, 10.0.0.7"], forwarded: []) == "10.0.0.7")
        // Ports and brackets are not part of the address.
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["198.51.100.7:51234"], forwarded: []) == "198.51.100.7")
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["[2001:db8::17]:4711"], forwarded: []) == "2001:db8::17")
    }

    @Test func forwardedHeaderWhenThereIsNoXForwardedFor() {
        #expect(
            proxies.clientAddress(peer: "::1", forwardedFor: [], forwarded: ["for=192.0.2.60;proto=http;by=203.0.113.43"])
                == "192.0.2.60")
        #expect(
            proxies.clientAddress(peer: "::1", forwardedFor: [], forwarded: [#"for=1.2.3.4, For="[2001:db8:cafe::17]:4711""#])
                == "2001:db8:cafe::17")
        #expect(proxies.clientAddress(peer: "::1", forwardedFor: [], forwarded: ["for=_hidden, for=10.0.0.3"]) == "10.0.0.3")
    }

    @Test func networksMatchByPrefixAndMappedIPv4() throws {
        #expect(proxies.contains("10.255.0.1"))
        #expect(!proxies.contains("11.0.0.1"))
        #expect(proxies.contains("192.168.1.10") && !proxies.contains("192.168.1.11"))
        #expect(proxies.contains("::ffff:10.0.0.1"))
        #expect(proxies.contains("fd12::1") && !proxies.contains("fe80::1"))
        #expect(try TrustedProxies(["172.16.0.0/12"]).contains("172.31.255.255"))
        #expect(try !TrustedProxies(["172.16.0.0/12"]).contains("172.32.0.0"))
        #expect(try TrustedProxies(["0.0.0.0/0"]).contains("8.8.8.8"))
        #expect(try TrustedProxies([""]).isEmpty)
    }

    @Test(arguments: ["10.0.0.0/33", "example.com", "10.0.0.0/", "::1/129", "1.2.3"])
    func invalidEntriesAreRefused(entry: String) {
        #expect(throws: TrustedProxies.Invalid.self) { try TrustedProxies([entry]) }
    }
}
