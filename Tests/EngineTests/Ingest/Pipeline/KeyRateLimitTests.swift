import PitIngest
import PitModel
import PitStorage
import Testing

@Suite struct KeyRateLimitTests {
    @Test(
        arguments: [
            (Int64(10), Int64.max), (10, 86401), (10, 0), (10, -1), (-1, 60), (Int64.max, 60), (Int64.min, 60),
        ] as [(Int64, Int64)])
    func outOfRangeLimitsAreRefused(count: Int64, window: Int64) {
        let error = #expect(throws: AdminError.self) { try ProjectKey.RateLimit.validated(count: count, windowSeconds: window) }
        #expect(error?.code == .invalid)
    }

    @Test func missingFieldsAreRefused() {
        #expect(throws: AdminError.self) { try ProjectKey.RateLimit.validated(count: nil, windowSeconds: 60) }
        #expect(throws: AdminError.self) { try ProjectKey.RateLimit.validated(count: 1, windowSeconds: nil) }
    }

    @Test func boundsAreAccepted() throws {
        #expect(try ProjectKey.RateLimit.validated(count: 0, windowSeconds: 1) == ProjectKey.RateLimit(count: 0, windowSeconds: 1))
        #expect(try ProjectKey.RateLimit.validated(count: 1000, windowSeconds: 86400).windowSeconds == 86400)
    }

    /// A window stored before the API checked ranges (or written by hand) used to overflow
    /// `start + window` on the second request and trap.
    @Test(arguments: [Int64.max, Int64.max - 1, Int64.min, 0, -5])
    func storedWindowNeverOverflows(window: Int64) {
        let cache = KeyCache()
        let limit = ProjectKey.RateLimit(count: 1, windowSeconds: window)
        #expect(cache.admit("k", limit: limit, nowSeconds: 1_700_000_000) == nil)
        let retry = cache.admit("k", limit: limit, nowSeconds: 1_700_000_001)
        if let retry { #expect(retry >= 1 && retry <= 86400) }
        _ = cache.admit("k", limit: limit, nowSeconds: Int64.max)
        _ = cache.admit("k", limit: limit, nowSeconds: Int64.max)
        _ = cache.admit("k", limit: limit, nowSeconds: Int64.min)
    }

    @Test func clockNearTheEndOfTimeDoesNotOverflow() {
        let cache = KeyCache()
        let limit = ProjectKey.RateLimit(count: 1, windowSeconds: 60)
        #expect(cache.admit("k", limit: limit, nowSeconds: Int64.max - 10) == nil)
        #expect(cache.admit("k", limit: limit, nowSeconds: Int64.max - 5) != nil)
    }
}
