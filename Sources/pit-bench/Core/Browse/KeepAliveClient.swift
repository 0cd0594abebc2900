import Foundation

/// A blocking HTTP/1.1 client on one keep-alive connection, for the read benchmark. Reads run
/// at tens to hundreds per second, so a thread per connection is simpler than an event loop and
/// costs the server nothing extra.
final class KeepAliveClient {
    let host: String
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> [String] {
            headers.filter { $0.0.caseInsensitiveCompare(name) == .orderedSame }.map(\.1)
        }
    }

    init(host: String, port: Int) {
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    deinit { disconnect() }

    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
    }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw BenchError("socket() failed") }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(socketFD)
            throw BenchError("only IPv4 addresses are supported: \(host)")
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socketFD)
            throw BenchError("connect to \(host):\(port) failed")
        }
        fd = socketFD
    }

    /// Sends one request and reads the whole response; reconnects once if the server had closed
    /// the idle connection.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> Response {
        do {
            return try attempt(method, path, headers: headers, body: body)
        } catch {
            disconnect()
            return try attempt(method, path, headers: headers, body: body)
        }
    }

    private func attempt(_ method: String, _ path: String, headers: [String: String], body: [UInt8]) throws -> Response {
        try connectIfNeeded()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try write(Array(head.utf8) + body)
        let headerBytes = try readUntil(Array("\r\n\r\n".utf8))
        let text = String(decoding: headerBytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw BenchError("malformed status line") }
        var fields: [(String, String)] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let response = Response(status: status, headers: fields, body: [])
        var result = response
        if let length = response.header("Content-Length").first.flatMap({ Int($0) }) {
            result.body = try readExactly(length)
        } else if response.header("Transfer-Encoding").contains(where: { $0.lowercased().contains("chunked") }) {
            result.body = try readChunked()
        } else if method != "HEAD" && status != 204 && status != 304 {
            result.body = try readToClose()
            disconnect()
        }
        if response.header("Connection").contains(where: { $0.lowercased() == "close" }) { disconnect() }
        return result
    }

    private func write(_ bytes: [UInt8]) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw BenchError("send failed") }
            written += n
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw BenchError("connection closed") }
        buffer += chunk[0..<n]
    }

    private func readUntil(_ delimiter: [UInt8]) throws -> [UInt8] {
        while true {
            if let range = buffer.firstRange(of: delimiter) {
                let head = Array(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                return head
            }
            try fill()
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        let bytes = Array(buffer[..<count])
        buffer.removeSubrange(..<count)
        return bytes
    }

    private func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = String(decoding: try readUntil(Array("\r\n".utf8)), as: UTF8.self)
            guard let size = Int(line.split(separator: ";").first.map(String.init) ?? "", radix: 16) else {
                throw BenchError("malformed chunk size")
            }
            if size == 0 {
                _ = try readUntil(Array("\r\n".utf8))
                return body
            }
            body += try readExactly(size)
            _ = try readExactly(2)
        }
    }

    private func readToClose() throws -> [UInt8] {
        while true {
            do { try fill() } catch { break }
        }
        defer { buffer.removeAll() }
        return buffer
    }
}
