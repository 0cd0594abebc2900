import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// The performance pages: the transaction summary list, one transaction's summary, the span
/// summary and Web Vitals. Figures come from the aggregates;
/// samples, spans and measurements from index walks bounded by the window and a cap.
extension WebRoutes {
    func registerPerformance(on org: RouterGroup<PitRequestContext>) {
        org.get("projects/:project/performance") { request, context in try await performancePage(request, context) }
        org.get("projects/:project/performance/summary") { request, context in try await transactionSummaryPage(request, context) }
        org.get("projects/:project/performance/spans") { request, context in try await spanSummaryPage(request, context) }
        org.get("projects/:project/performance/vitals") { request, context in try await webVitalsPage(request, context) }
    }

    func performanceFilters(_ parameters: FormFields) -> PerformanceFilters {
        PerformanceFilters(
            period: parameters["statsPeriod"].flatMap(PerformancePeriod.init(rawValue:)) ?? .standard,
            environment: Self.nonEmpty(parameters["environment"]))
    }

    func performancePage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let parameters = FormFields(query: request)
        let filters = performanceFilters(parameters)
        let search = Self.nonEmpty(parameters["query"]) ?? ""
        let sortText = parameters["sort"] ?? ""
        let descending = sortText.hasPrefix("-")
        let column =
            TransactionListing.Column(rawValue: String(descending ? sortText.dropFirst() : sortText[...])) ?? .perMinute
        let window = filters.window(now: ClockTime.nowMilliseconds)
        var query = TransactionSummaryQuery(projectIDs: [project.id], from: window.from, to: window.to)
        query.nameContains = search.isEmpty ? nil : search
        if let environment = filters.environment { query.environments = [environment] }
        var listing = TransactionListing(
            summaries: try await reader.transactionSummaries(query), series: try await reader.transactionSeries(query), query: query,
            bars: filters.period.sparklineBars)
        let isDescending = sortText.isEmpty ? true : descending
        listing.sort(by: column, descending: isDescending)
        let model = PerformanceModel(
            project: project, filters: filters, environments: try await reader.environments(projectID: project.id), search: search,
            sort: column, descending: isDescending, listing: listing, apdexThreshold: try await apdexThreshold(project))
        let chrome = try await chrome(request, context, section: .performance, project: project)
        return Self.page(PerformancePage.render(model, chrome: chrome), request: request)
    }

    func transactionSummaryPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let parameters = FormFields(query: request)
        guard let name = parameters["transaction"], !name.isEmpty else {
            throw HTTPError(.notFound, message: "Name a transaction: ?transaction=…")
        }
        let filters = performanceFilters(parameters)
        let window = filters.window(now: ClockTime.nowMilliseconds)
        var query = TransactionSummaryQuery(projectIDs: [project.id], from: window.from, to: window.to)
        query.name = name
        if let environment = filters.environment { query.environments = [environment] }
        let summary = try await reader.transactionSummaries(query).first
        let sample = TransactionSampleQuery(
            projectID: project.id, from: window.from, to: window.to, name: name, environment: filters.environment,
            limit: TransactionSummaryModel.slowestShown)
        var spanQuery = sample
        spanQuery.limit = TransactionSummaryModel.breakdownSample
        let model = TransactionSummaryModel(
            project: project, name: name, filters: filters, environments: try await reader.environments(projectID: project.id),
            summary: summary, perMinute: (summary?.extrapolated ?? 0) / max(1, Double(window.to - window.from) / 60_000),
            slowest: try await reader.transactionSamples(sample), spans: SpanSummary(try await reader.spanSample(spanQuery)),
            apdexThreshold: try await apdexThreshold(project))
        let chrome = try await chrome(request, context, section: .performance, project: project)
        return Self.page(TransactionSummaryPage.render(model, chrome: chrome), request: request)
    }

    func spanSummaryPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let parameters = FormFields(query: request)
        let filters = performanceFilters(parameters)
        let name = Self.nonEmpty(parameters["transaction"])
        let window = filters.window(now: ClockTime.nowMilliseconds)
        let query = TransactionSampleQuery(
            projectID: project.id, from: window.from, to: window.to, name: name, environment: filters.environment,
            limit: name == nil ? SpanSummaryModel.projectSample : SpanSummaryModel.transactionSample)
        let sort = parameters["sort"].flatMap(SpanSummary.Sort.init(rawValue:)) ?? .total
        var summary = SpanSummary(try await reader.spanSample(query))
        summary.sort(by: sort)
        let model = SpanSummaryModel(
            project: project, transaction: name, filters: filters, environments: try await reader.environments(projectID: project.id),
            sort: sort, summary: summary)
        let chrome = try await chrome(request, context, section: .performance, project: project)
        return Self.page(SpanSummaryPage.render(model, chrome: chrome), request: request)
    }

    func webVitalsPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let filters = performanceFilters(FormFields(query: request))
        let window = filters.window(now: ClockTime.nowMilliseconds)
        let rows = try await reader.measurements(
            TransactionSampleQuery(
                projectID: project.id, from: window.from, to: window.to, environment: filters.environment, limit: WebVitalsModel.sampleCap))
        let model = WebVitalsModel(
            project: project, filters: filters, environments: try await reader.environments(projectID: project.id), vitals: WebVitals(rows))
        let chrome = try await chrome(request, context, section: .performance, project: project)
        return Self.page(WebVitalsPage.render(model, chrome: chrome), request: request)
    }

    private func apdexThreshold(_ project: Project) async throws -> Int64 {
        try await admin { try await $0.apdexThreshold(projectID: project.id) } ?? Apdex.defaultThresholdMilliseconds
    }
}
