import Foundation

/// Profiles in Sentry's sample format v1, shaped as the Python SDK sends them (string
/// nanoseconds and thread ids, `transactions` as a list, frames leaf first in each stack).
enum ProfileFixtures {
    static let profileID = "5f3e1c2b4a6d48e9a0b1c2d3e4f50617"
    static let transactionID = "11111111111111111111111111111111"

    /// Frames: 0 `main` (app.py), 1 `handle` (app.py), 2 `query` (db.py), 3 `sleep` (time),
    /// 4 `handle` again on another line. Stacks, leaf first: 0 main>handle>query>sleep,
    /// 1 main>handle, 2 main>handle(line 2)>query, 3 another thread's main.
    static let frames = """
        [{"function":"main","filename":"app.py","module":"app","lineno":1,"in_app":true},
         {"function":"handle","filename":"app.py","module":"app","lineno":10,"in_app":true},
         {"function":"query","filename":"db.py","module":"shop.db","lineno":5,"in_app":true},
         {"function":"sleep","module":"time","in_app":false},
         {"function":"handle","filename":"app.py","module":"app","lineno":12,"in_app":true}]
        """
    static let stacks = "[[3,2,1,0],[1,0],[2,4,0],[0]]"

    /// `samples` as `(stack_id, thread_id)` pairs, 10 ms apart.
    static func profile(
        samples: [(Int, String)] = [(0, "1"), (0, "1"), (1, "1"), (2, "1"), (3, "2")], version: String = "\"1\"",
        transaction: String? = nil, frames: String = frames, stacks: String = stacks, elapsedAsNumbers: Bool = false
    ) -> String {
        let sampleJSON = samples.enumerated().map { index, sample in
            let elapsed = elapsedAsNumbers ? "\(index * 10_000_000)" : "\"\(index * 10_000_000)\""
            return #"{"elapsed_since_start_ns":\#(elapsed),"thread_id":"\#(sample.1)","stack_id":\#(sample.0)}"#
        }.joined(separator: ",")
        let transactionJSON =
            transaction
            ?? #""transactions":[{"id":"\#(transactionID)","name":"GET /users/{id}","relative_start_ns":"0","relative_end_ns":"45000000","trace_id":"771a43a4192642f0b136d5159a501700","active_thread_id":"1"}]"#
        return #"""
            {"event_id":"\#(profileID)","platform":"python","version":\#(version),"timestamp":"2026-12-01T10:00:00.250000Z","release":"app@1.0","environment":"production","device":{"architecture":"x86_64"},"os":{"name":"Linux"},"runtime":{"name":"CPython","version":"3.12"},"profile":{"frames":\#(frames),"stacks":\#(stacks),"samples":[\#(sampleJSON)],"thread_metadata":{"1":{"name":"MainThread"}}},\#(transactionJSON)}
            """#
    }

    /// An envelope of a transaction and the profile recorded in it, as the Python SDK sends them.
    static func envelope(transaction: String, profile: String, eventID: String = transactionID) -> String {
        #"{"event_id":"\#(eventID)"}"# + "\n" + #"{"type":"transaction","length":\#(transaction.utf8.count)}"# + "\n" + transaction + "\n"
            + #"{"type":"profile","length":\#(profile.utf8.count)}"# + "\n" + profile + "\n"
    }
}
