import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// The trace view, a transaction's event page and a profile's flame graph. A trace is read
/// across the projects of the organisation in the path, and only those: a trace id seen in
/// another organisation shows nothing of it.
extension WebRoutes {
    /// Most transactions, spans and errors a page reads of one trace (each), as the API does;
    /// the waterfall lays out at most `TraceWaterfall.defaultMaxRows` of them.
    static let traceReadLimit = 10_000

    func registerTraces(on org: RouterGroup<PitRequestContext>) {
        org.get("performance/trace/:trace") { request, context in try await tracePage(request, context) }
        org.get("profiling/profile/:project/:profile/flamegraph") { request, context in try await flameGraphPage(request, context) }
    }

    /// The projects of the organisation in the path, which must be this server's.
    private func organizationProjects(_ context: PitRequestContext) async throws -> [Project] {
        guard context.parameters.get("org") == organization else {
            throw HTTPError(.notFound, message: "This organisation does not exist.")
        }
        return try await admin({ try await $0.projects() }).filter { $0.organizationSlug == organization }
    }

    func tracePage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await organizationProjects(context)
        guard let text = context.parameters.get("trace"), text.utf8.count == 32, let traceID = TraceID(text) else {
            throw HTTPError(.notFound, message: "This is not a trace id: a trace id is 32 hexadecimal characters.")
        }
        let ids = projects.map(\.id)
        let contents = try await reader.trace(traceID, projectIDs: ids, limit: Self.traceReadLimit)
        let profiles = try await reader.profiles(traceID: traceID, projectIDs: ids, limit: Self.traceReadLimit)
        let model = TraceModel(
            traceID: traceID, waterfall: TraceWaterfall(contents),
            projects: Dictionary(projects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            profiles: Dictionary(profiles.map { ($0.transactionID, $0) }, uniquingKeysWith: { first, _ in first }),
            truncated: [contents.transactions.count, contents.spans.count, contents.errors.count].contains(Self.traceReadLimit))
        let chrome = try await chrome(request, context, section: .events, project: nil)
        return Self.page(TracePage.render(model, chrome: chrome), request: request)
    }

    /// A transaction's page: its own spans (those of its segment) and the errors in them.
    func transactionEventPage(
        _ request: Request, _ context: PitRequestContext, project: Project, transaction: StoredTransaction
    ) async throws -> Response {
        let row = transaction.row
        let trace = try await reader.trace(
            row.traceID, projectIDs: try await organizationProjects(context).map(\.id), limit: Self.traceReadLimit)
        let spans = trace.spans.filter { $0.projectID == row.projectID && $0.segmentID == row.spanID }
        let spanIDs = Set(spans.map(\.spanID)).union([row.spanID])
        let errors = trace.errors.filter { error in error.spanID.map { spanIDs.contains($0) } ?? false }
        let own = TraceContents(transactions: [row], spans: spans, errors: errors)
        let model = TransactionEventModel(
            project: project, transaction: transaction, waterfall: TraceWaterfall(own),
            profiles: try await reader.profiles(projectID: project.id, transactionID: row.eventID),
            otherTransactions: trace.transactions.filter { $0.eventID != row.eventID }.count)
        let chrome = try await chrome(request, context, section: .events, project: project)
        return Self.page(TransactionEventPage.render(model, chrome: chrome), request: request)
    }

    func flameGraphPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        let project = try await pathProject(context)
        guard let text = context.parameters.get("profile"), let profileID = EventID(text),
            let stored = try await reader.profile(projectID: project.id, profileID: profileID)
        else { throw HTTPError(.notFound, message: "This profile does not exist in this project.") }
        let model = FlameGraphModel(
            project: project, profile: stored.row,
            graph: stored.payloadError == nil ? FlameGraph.from(profileJSON: stored.payload) : nil, payloadError: stored.payloadError,
            transaction: try await reader.transaction(projectID: project.id, eventID: stored.row.transactionID)?.row)
        let chrome = try await chrome(request, context, section: .events, project: project)
        return Self.page(FlameGraphPage.render(model, chrome: chrome), request: request)
    }
}
