import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// An event's attachments: `GET /api/0/projects/{org}/{project}/events/{event_id}/attachments/`
/// lists them in Sentry's shape, `…/attachments/{id}/` answers one, and with `?download` (Sentry
/// reads its presence) its bytes. Scoped to the project of the URL: another project's attachment
/// id or event id is a 404.
extension APIRoutes {
    func eventAttachments(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        let rows = try await reader.attachments(projectID: project.id, eventID: eventID)
        var writer = JSONWriter(capacity: 320 * max(1, rows.count))
        writer.beginArray()
        for row in rows { SentryAPIRenderer.attachment(row, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func eventAttachment(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text),
            let id = context.parameters.get("attachment").flatMap({ Int64($0) }),
            let row = try await reader.attachment(projectID: project.id, id: id), row.eventID == eventID
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let parameters = FormFields(query: request)
        if let download = parameters["download"], download != "0", download != "false" {
            guard let content = try await reader.attachmentContent(projectID: project.id, id: id) else {
                throw HTTPError(.notFound, message: "The requested resource does not exist")
            }
            return try AttachmentDownload.response(row, content: content, inline: false)
        }
        var writer = JSONWriter()
        SentryAPIRenderer.attachment(row, into: &writer)
        return HTTPResponses.json(writer)
    }
}
