/// Day and month names and Sentry's TLD list, packed into integers so the date and hostname
/// matchers compare a name with one integer compare.
enum DateAndHostNames {
    static func pack(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static let days: [UInt64] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { pack($0.utf8) }
    static let months: [UInt64] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ].map { pack($0.utf8) }
    static let fullDays: [[UInt8]] = [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    ].map { Array($0.utf8) }

    /// Sentry's "top 100" TLD list (each accepted either all-lowercase or all-uppercase).
    static let tlds: Set<UInt64> = Set(
        """
        com net org jp de uk fr br it ru es me gov pl ca au cn co in nl edu info eu ch id at kr cz \
        mx be tv se tr tw al ua ir vn cl sk ly cc to no fi us pt dk ar hu tk gr il news ro my biz \
        ie za nz sg ee th io xyz pe bg hk rs lt link ph club si site mobi by cat wiki la ga xxx cf \
        hr ng jobs online kz ug gq ae is lv pro fm tips ms sa app
        """.split(separator: " ").map { pack($0.utf8) }
    )
    static let maxTLDLength = 6
}
