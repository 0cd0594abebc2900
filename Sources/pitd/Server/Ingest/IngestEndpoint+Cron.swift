import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// Sentry's HTTP check-in endpoint, `GET|POST /api/{project_id}/cron/{monitor_slug}/{sentry_key}/`:
/// the key in the path is checked as an ingest route checks `sentry_key` (known, enabled, of this
/// project, within its rate limit), the check-in comes from the query (`status`, `check_in_id`,
/// `environment`, `duration`) or from a JSON body (which may carry `monitor_config`), and the
/// answer is 202 once it is queued (ack=queued) or stored (ack=committed).
extension IngestEndpoint {
    func register(on router: Router<PitRequestContext>) {
        router.get("api/:project/cron/:slug/:key") { request, context in await cronCheckIn(request, context) }
        router.post("api/:project/cron/:slug/:key") { request, context in await cronCheckIn(request, context) }
    }

    func cronCheckIn(_ request: Request, _ context: PitRequestContext) async -> Response {
        do throws(IngestError) {
            guard let projectID = context.parameters.get("project").flatMap({ Int64($0) }), projectID > 0 else {
                throw .badRequest("invalid project id in URL")
            }
            let slug = context.parameters.get("slug") ?? ""
            let key = context.parameters.get("key") ?? ""
            do throws(IngestError) {
                try pipeline.authorize(publicKey: key, projectID: projectID)
            } catch {
                pipeline.countRefusal(error, projectID: projectID, publicKey: key, categories: [(OutcomeCategory.monitor, 1)])
                throw error
            }
            if let refusal = pipeline.diskGuard?.refusal { throw pipeline.rejected(refusal, itemType: "check_in") }
            let received = ClockTime.nowSeconds
            var update: CheckInUpdate
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: pipeline.limits.maxCheckInBytes)
            } catch {
                throw .tooLarge("check-in exceeds \(pipeline.limits.maxCheckInBytes) bytes")
            }
            do throws(CheckInParser.Drop) {
                if request.method == .post, body.readableBytes > 0 {
                    let result: Result<CheckInUpdate, CheckInParser.Drop> = body.withUnsafeReadableBytes { raw in
                        guard let tape = try? JSONTape.parse(raw) else { return .failure(.malformed) }
                        do throws(CheckInParser.Drop) {
                            return .success(
                                try CheckInParser.checkIn(
                                    JSONView(tape: tape, bytes: raw), projectID: projectID, received: received, slug: slug))
                        } catch {
                            return .failure(error)
                        }
                    }
                    update = try result.get()
                } else {
                    let query = URLEncoding.queryItems(request.uri.query.map { Substring($0) })
                    var parameters: [String: String] = [:]
                    for name in ["status", "check_in_id", "environment", "duration"] { parameters[name] = query[name] }
                    update = try CheckInParser.query(slug: slug, parameters: parameters, projectID: projectID, received: received)
                }
            } catch {
                throw pipeline.rejected(.badRequest("invalid check-in: \(error.rawValue)"), itemType: "check_in")
            }
            update.projectID = projectID
            var unit = WriteUnit(event: nil, items: [], checkIns: [.update(update)])
            unit.outcomes = [
                OutcomeCount(
                    OutcomeKey(
                        projectID: projectID, hour: HourlyCounts.hour(ofMilliseconds: Int64(received * 1000)), outcome: .accepted,
                        category: OutcomeCategory.monitor), quantity: 1)
            ]
            try await pipeline.submit(unit, itemTypes: [.checkIn])
            return response(IngestAnswer(status: 202, headers: IngestAnswer.corsHeaders, body: []))
        } catch {
            IngestAnswer.log(error, logger: logger)
            return response(.failure(error))
        }
    }
}
