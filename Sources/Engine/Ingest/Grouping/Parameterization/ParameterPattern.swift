/// Sentry's pattern names and priority order (the order of the combined regex alternation and
/// of the sequential fallback).
enum ParameterPattern: Int, CaseIterable {
    case email, url, hostname, traceparent, uuid, sha1, md5, date, ip, duration
    case swiftTxnID, hex, gitSHA, float, int, quotedStr, bool

    var name: String {
        switch self {
        case .email: "email"
        case .url: "url"
        case .hostname: "hostname"
        case .traceparent: "traceparent"
        case .uuid: "uuid"
        case .sha1: "sha1"
        case .md5: "md5"
        case .date: "date"
        case .ip: "ip"
        case .duration: "duration"
        case .swiftTxnID: "swift_txn_id"
        case .hex: "hex"
        case .gitSHA: "git_sha"
        case .float: "float"
        case .int: "int"
        case .quotedStr: "quoted_str"
        case .bool: "bool"
        }
    }

    var bit: UInt32 { 1 << UInt32(rawValue) }

    static let all: UInt32 = allCases.reduce(0) { $0 | $1.bit }

    static let placeholders: [[UInt8]] = allCases.map { Array("<\($0.name)>".utf8) }
}
