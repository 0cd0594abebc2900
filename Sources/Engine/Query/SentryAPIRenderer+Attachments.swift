package import PitModel
package import PitStorage

extension SentryAPIRenderer {
    /// One attachment in the shape of Sentry's `EventAttachmentSerializer`
    /// (`/projects/{org}/{project}/events/{event_id}/attachments/`).
    package static func attachment(_ row: AttachmentRow, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(row.id))
        writer.field("event_id", row.eventID.hex)
        writer.field("type", row.type)
        writer.field("name", row.name)
        writer.field("mimetype", row.mimeType)
        writer.field("dateCreated", Timestamp.format(milliseconds: row.received))
        writer.field("size", row.size)
        writer.field("sha1", row.sha1)
        writer.key("headers")
        writer.beginObject()
        writer.field("Content-Type", row.mimeType)
        writer.endObject()
        writer.endObject()
    }
}
