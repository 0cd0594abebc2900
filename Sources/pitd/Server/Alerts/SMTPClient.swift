import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one message per call over its own SMTP connection (alerts are rare: the hourly ceiling
/// bounds them): EHLO, STARTTLS or implicit TLS, AUTH PLAIN or LOGIN when a username is set, MAIL
/// FROM / RCPT TO / DATA. Answers the server's last reply code; a refusal throws a `Failure`
/// carrying the code, so the dispatcher logs it as the attempt's response like a webhook status.
struct SMTPClient: Sendable {
    struct Configuration: Sendable {
        enum Security: String, Sendable, CaseIterable {
            /// Plain connection upgraded with STARTTLS; a server that does not offer it is refused.
            case starttls
            /// TLS from the first byte (port 465, "SMTPS").
            case tls
            /// No encryption: a relay on the same host or network only.
            case none
        }

        var host: String
        var port: Int
        var security: Security
        var username: String?
        var password: String?
        var from: String
        /// PEM certificates to trust instead of the system's roots (a private CA, a test server).
        var caFile: String?
        var timeout: TimeAmount = .seconds(30)
    }

    struct Failure: Error, CustomStringConvertible {
        /// The reply code that refused, when the server answered.
        var code: Int?
        var description: String
    }

    let group: any EventLoopGroup
    let configuration: Configuration

    /// Delivers `message` (headers and body, CRLF lines, not yet dot-stuffed) to `recipient`.
    func send(_ message: String, to recipient: String) async throws -> Int {
        let configuration = configuration
        let tls = try makeTLSContext()
        let replies = AsyncThrowingStream<SMTPReply, any Error>.makeStream()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(configuration.timeout)
            .channelInitializer { [continuation = replies.continuation] channel in
                channel.eventLoop.makeCompletedFuture {
                    if configuration.security == .tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: Self.serverName(configuration.host)))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(continuation: continuation))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw Failure(description: "cannot connect to \(configuration.host):\(configuration.port): \(error)")
        }
        let deadline = channel.eventLoop.scheduleTask(in: configuration.timeout) { [continuation = replies.continuation] in
            continuation.finish(throwing: Failure(description: "no answer within \(configuration.timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        var session = SMTPSession(channel: channel, replies: replies.stream.makeAsyncIterator())
        try await session.expect(220)
        var capabilities = try await session.hello(Self.heloName(configuration.from))
        if configuration.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw Failure(description: "\(configuration.host) does not offer STARTTLS (smtp_security=starttls)")
            }
            try await session.command("STARTTLS", expecting: 220)
            try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(
                    try NIOSSLClientHandler(context: tls, serverHostname: Self.serverName(configuration.host)), position: .first)
            }.get()
            capabilities = try await session.hello(Self.heloName(configuration.from))
        }
        if let username = configuration.username, !username.isEmpty {
            try await session.authenticate(username: username, password: configuration.password ?? "", capabilities: capabilities)
        }
        try await session.command("MAIL FROM:<\(configuration.from)>", expecting: 250)
        try await session.command("RCPT TO:<\(recipient)>", expecting: 250, 251)
        try await session.command("DATA", expecting: 354)
        let code = try await session.command(Self.dotStuffed(message) + ".", shown: "end of DATA", expecting: 250)
        _ = try? await session.command("QUIT", expecting: 221)
        return code
    }

    private func makeTLSContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// SNI takes names only: for an address the certificate is checked against the address.
    static func serverName(_ host: String) -> String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return nil }
        return host
    }

    /// The EHLO name: the sender's domain, which is what a relay's logs should show.
    static func heloName(_ from: String) -> String {
        guard let at = from.lastIndex(of: "@") else { return "localhost" }
        let domain = from[from.index(after: at)...]
        return domain.isEmpty ? "localhost" : String(domain)
    }

    /// RFC 5321 4.5.2: a line that begins with "." gets another, so no body line ends DATA early;
    /// the result ends with CRLF, ready for the terminating ".".
    static func dotStuffed(_ message: String) -> String {
        var lines = message.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        var out = ""
        for line in lines {
            if line.hasPrefix(".") { out += "." }
            out += line
            out += "\r\n"
        }
        return out
    }
}

/// One reply: its code and text lines (a multiline reply's lines in order).
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// The conversation on a connected channel: each command waits for its reply.
private struct SMTPSession {
    let channel: any Channel
    var replies: AsyncThrowingStream<SMTPReply, any Error>.AsyncIterator

    mutating func next() async throws -> SMTPReply {
        guard let reply = try await replies.next() else { throw SMTPClient.Failure(description: "the server closed the connection") }
        return reply
    }

    @discardableResult
    mutating func expect(_ codes: Int...) async throws -> Int {
        let reply = try await next()
        guard codes.contains(reply.code) else {
            throw SMTPClient.Failure(
                code: reply.code, description: "the server answered \(reply.code) \(reply.lines.joined(separator: " "))")
        }
        return reply.code
    }

    @discardableResult
    mutating func command(_ line: String, shown label: String? = nil, expecting codes: Int...) async throws -> Int {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
        let reply = try await next()
        guard codes.contains(reply.code) else {
            let shown = label ?? String(line.prefix { $0 != " " && $0 != ":" })
            throw SMTPClient.Failure(
                code: reply.code, description: "\(shown): the server answered \(reply.code) \(reply.lines.joined(separator: " "))")
        }
        return reply.code
    }

    /// EHLO; returns the extensions the server offers (one keyword line each, e.g. "AUTH PLAIN LOGIN").
    mutating func hello(_ name: String) async throws -> [String] {
        try await channel.writeAndFlush(ByteBuffer(string: "EHLO \(name)\r\n")).get()
        let reply = try await next()
        guard reply.code == 250 else {
            throw SMTPClient.Failure(
                code: reply.code, description: "EHLO: the server answered \(reply.code) \(reply.lines.joined(separator: " "))")
        }
        return Array(reply.lines.dropFirst())
    }

    /// AUTH PLAIN when offered (one round trip), else LOGIN. The credentials are never part of an error.
    mutating func authenticate(username: String, password: String, capabilities: [String]) async throws {
        let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }.map {
            $0.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).dropFirst().map(String.init)
        }
        guard let mechanisms else { throw SMTPClient.Failure(description: "the server offers no AUTH, but smtp_username is set") }
        if mechanisms.contains("PLAIN") {
            let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
            try await command("AUTH PLAIN \(token)", shown: "AUTH PLAIN", expecting: 235)
        } else if mechanisms.contains("LOGIN") {
            try await command("AUTH LOGIN", expecting: 334)
            try await command(Data(username.utf8).base64EncodedString(), shown: "AUTH LOGIN username", expecting: 334)
            try await command(Data(password.utf8).base64EncodedString(), shown: "AUTH LOGIN password", expecting: 235)
        } else {
            throw SMTPClient.Failure(description: "the server offers AUTH \(mechanisms.joined(separator: " ")), neither PLAIN nor LOGIN")
        }
    }
}

/// Splits what the server sends into replies: "250-..." lines continue one, "250 ..." ends it.
private final class SMTPReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation
    private var pending = ByteBuffer()
    private var lines: [String] = []

    init(continuation: AsyncThrowingStream<SMTPReply, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending.writeBuffer(&buffer)
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex
            guard var line = pending.readString(length: length) else { return }
            pending.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else {
                continuation.finish(throwing: SMTPClient.Failure(description: "not an SMTP reply: \(line.prefix(80))"))
                context.close(promise: nil)
                return
            }
            let separator = line.dropFirst(3).first
            lines.append(String(line.dropFirst(4)))
            if separator != "-" {
                continuation.yield(SMTPReply(code: code, lines: lines))
                lines = []
            }
        }
        // A reply line is at most 512 bytes (RFC 5321 4.5.3.1.5); more without a newline is not SMTP.
        if pending.readableBytes > 4096 {
            continuation.finish(throwing: SMTPClient.Failure(description: "a reply line longer than 4096 bytes"))
            context.close(promise: nil)
        }
        pending.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: SMTPClient.Failure(description: "\(error)"))
        context.close(promise: nil)
    }
}
