import Hummingbird
import NIOCore
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Reads a small JSON object body and hands a view of it to `body`.
enum APIBody {
    static let maxBytes = 64 * 1024

    static func read<T>(_ request: Request, allowEmpty: Bool = false, limit: Int = maxBytes, _ body: (JSONView) throws -> T) async throws
        -> T
    {
        var buffer = try await request.body.collect(upTo: limit)
        if allowEmpty && buffer.readableBytes == 0 { buffer = ByteBuffer(string: "{}") }
        return try buffer.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                throw HTTPError(.badRequest, message: "body must be a JSON object")
            }
            return try body(JSONView(tape: tape, bytes: raw))
        }
    }
}
