package import PitModel

extension JSONWriter {
    /// A payload string written as it is, without a `String` in between.
    package mutating func field(_ name: String, _ text: PayloadText) {
        text.withUTF8 { field(name, utf8: $0) }
    }
}
