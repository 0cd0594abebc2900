extension ExtractedEvent {
    /// What `SourceMapResolver.isJavaScript` decides from the whole payload, read from the
    /// extracted fields instead (platform, frames' files), so that the hot path can skip
    /// resolution for every other event without parsing its JSON again. Loose on purpose: the
    /// resolver checks again.
    package var isJavaScript: Bool {
        if platform == "javascript" || platform == "node" { return true }
        for exception in exceptions where Self.anyScript(exception.frames) { return true }
        return threadFrames.map(Self.anyScript) ?? false
    }

    private static func anyScript(_ frames: [FrameInfo]) -> Bool {
        for frame in frames {
            if frame.platform == "javascript" || frame.platform == "node" { return true }
            if let path = frame.absPath, namesScript(path) { return true }
            if let path = frame.filename, namesScript(path) { return true }
        }
        return false
    }

    /// `.js`, `.mjs` or `.cjs` anywhere in the path (a query string may follow it).
    private static func namesScript(_ path: PayloadText) -> Bool {
        path.withUTF8 { bytes in
            guard bytes.count >= 3 else { return false }
            for index in 0...(bytes.count - 3) where bytes[index] == UInt8(ascii: ".") {
                let next = bytes[index + 1]
                if next == UInt8(ascii: "j") && bytes[index + 2] == UInt8(ascii: "s") { return true }
                if (next == UInt8(ascii: "m") || next == UInt8(ascii: "c")) && index + 3 < bytes.count
                    && bytes[index + 2] == UInt8(ascii: "j") && bytes[index + 3] == UInt8(ascii: "s")
                {
                    return true
                }
            }
            return false
        }
    }
}
