package import NIOCore
package import PitModel

/// A parsed Sentry envelope. Items hold `ByteBuffer` slices of the request body: parsing copies
/// no payload bytes (the way Relay's `parse_items` shares `bytes.slice`).
///
/// Wire format (PROTOCOL.md §3):
/// ```
/// {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://key@host/42"}\n
/// {"type":"attachment","length":10,"filename":"hello.txt"}\n
/// \xef\xbb\xbfHello\r\n\n
/// {"type":"event"}\n
/// {"message":"hello world","level":"error"}\n
/// ```
package struct Envelope {
    package var header: EnvelopeHeader
    package var items: [EnvelopeItem]
}

package struct EnvelopeHeader {
    package var eventID: EventID?
    package var dsn: String?
    /// `sent_at` as epoch seconds, used to correct client clock drift.
    package var sentAt: Double?
    /// The raw header line, kept so unknown keys (trace context, sdk) survive.
    package var raw: ByteBuffer
}

package struct EnvelopeItem {
    package var type: ItemType
    package var payload: ByteBuffer
    package var contentType: String?
    package var filename: String?
    package var attachmentType: String?
    package var itemCount: Int?
    /// The raw item header line.
    package var rawHeader: ByteBuffer
}
