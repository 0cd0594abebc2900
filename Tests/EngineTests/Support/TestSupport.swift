import PitModel
import PitIngest
import Foundation
import NIOCore

/// Parses `text` and runs `body` on a view of it (the view is only valid inside `body`).
func withJSON<T>(_ text: String, _ body: (JSONView) throws -> T) throws -> T {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { raw in
        let tape = try JSONTape.parse(raw)
        return try body(JSONView(tape: tape, bytes: raw))
    }
}

/// Runs the extractor over a JSON event payload from a buffer, as the ingest path does (frame
/// strings then share the buffer's bytes).
func extract(_ json: String) throws -> ExtractedEvent {
    try EventExtractor.extract(payload: ByteBuffer(string: json))
}

/// Groups a JSON event payload.
func group(_ json: String) throws -> GroupingResult {
    Grouper.group(try extract(json))
}

/// The JSON error `parse` gives for `bytes`, nil when the document is valid.
func jsonError(_ bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSONTape.parse(bytes)
        return nil
    } catch {
        return error
    }
}

extension ByteBuffer {
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
    var bytes: [UInt8] { Array(readableBytesView) }
}

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pit-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A fixed receive time (2023-11-14T22:13:20Z) so timestamps in tests are exact.
let receiveTime = 1_700_000_000.0
