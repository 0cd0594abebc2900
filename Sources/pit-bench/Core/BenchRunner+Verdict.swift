import Foundation

extension BenchRunner {
    /// Why the run fails, by its mode's criteria; empty when it passes.
    func verdict(
        _ load: PhasesResult, overall: LatencySummary, knee: StepResult?, verification: Verifier.Outcome?
    ) -> [String] {
        let totals = load.totals
        var failures: [String] = []
        if options.mode == "soak" || options.mode == "run" {
            if totals.unavailable > 0 { failures.append("\(totals.unavailable) requests answered 503") }
            if totals.errors > 0 { failures.append("\(totals.errors) errors (4xx/5xx/timeouts/connection)") }
            if overall.p99 > options.maximumP99Milliseconds {
                failures.append(String(format: "p99 %.2f ms above %.2f ms", overall.p99, options.maximumP99Milliseconds))
            }
        }
        if options.mode == "chaos" {
            // The server is killed and restarted under load: refused connections, requests cut
            // off and timeouts are what a crash looks like to clients, and none of them was
            // acknowledged. What must not happen: an acknowledged event missing, an answer that
            // is neither 2xx/429 nor an honest 503 (with Retry-After), nothing verified.
            if totals.serverErrors + totals.otherClientErrors > 0 {
                failures.append("\(totals.serverErrors + totals.otherClientErrors) answers other than 2xx, 429 and 503")
            }
            if verification == nil {
                failures.append("acknowledged events not verified (give --token: pitd's admin token or an API token with read scope)")
            }
            if load.accepted.isEmpty { failures.append("no event acknowledged") }
        }
        if load.unavailableWithoutRetryAfter > 0 {
            failures.append("\(load.unavailableWithoutRetryAfter) answers 503 without an integer Retry-After")
        }
        if options.mode == "overload" {
            // Past capacity 503s are the point; what must not happen is a timeout, a refused
            // connection, another error, a slow answer, or a collapse of what is accepted.
            if totals.timeouts + totals.connectionErrors > 0 {
                failures.append("\(totals.timeouts) timeouts and \(totals.connectionErrors) connection errors")
            }
            if totals.serverErrors + totals.otherClientErrors > 0 {
                failures.append("\(totals.serverErrors + totals.otherClientErrors) answers other than 2xx, 429 and 503")
            }
            if overall.p99 > options.maximumP99Milliseconds {
                failures.append(String(format: "p99 %.2f ms above %.2f ms", overall.p99, options.maximumP99Milliseconds))
            }
            let scheduledSeconds = max(1, load.steps.reduce(0) { $0 + $1.duration })
            if let capacity = options.capacity, Double(totals.ok) / scheduledSeconds < 0.9 * capacity {
                failures.append(
                    String(format: "accepted %.0f/s, below 90%% of the capacity %.0f/s", Double(totals.ok) / scheduledSeconds, capacity))
            }
        }
        if let verification, verification.missing > 0 {
            failures.append("\(verification.missing) acknowledged events missing from storage")
        }
        // A ramp is judged step by step on latency from the due time, which charges a late
        // generator to the server (see `Knee.passes`); its warning is still printed. A chaos run
        // is judged on what was stored and how it was answered, not on timing, so a late
        // generator (the machine is busy restarting pitd) does not fail it.
        if let limited = load.limited, options.mode != "chaos", options.mode != "ramp" {
            failures.append("generator-limited: \(limited)")
        }
        if options.mode == "ramp" && knee == nil { failures.append("no step met the criteria") }
        return failures
    }
}
