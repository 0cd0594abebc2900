/// Decides, when a request's head arrives and before its body is read, whether to take it or to
/// answer 503 + Retry-After at once.
///
/// Past capacity a queue-length bound alone (the ingest queue's) never fires: the backlog sits in
/// the clients and the kernel, and latency climbs to seconds while every request is still taken.
/// The signal here is delay, judged once per interval (20 ms) by the event loop's probe:
/// - how late the loop ran its probe, as the minimum over the interval (CoDel's insight: a loop
///   late on every probe has a standing backlog; one late probe is a burst);
/// - counted only while the loop was saturated, i.e. on the CPU or waiting for it for nearly the
///   whole interval: a loop that also slept in epoll had spare capacity, and its lateness came
///   from other processes on the machine, which shedding would not cure;
/// - how much of the interval the loop spent waiting in the run queue for a CPU while it was
///   itself a real consumer (on a CPU for `minimumOnCPU` of the interval): the CPU is then
///   oversubscribed and pitd is part of why; this is how overload shows when clients share the
///   machine (a load generator on the same cores starves, its requests queue on its side, and the
///   loop, never late, sees no backlog of its own). Shedding frees CPU for everyone;
/// - and how long the oldest queued write has waited for the writer (a slow disk), against a
///   target of its own: with group commit every write waits for the commit before it, so a
///   queue age of a commit or two is the design working, not a backlog.
///
/// The controller follows PIE (RFC 8033): the share of new requests shed rises in proportion to
/// how far that delay is above `target` and how fast it grows, and decays once it is back below.
/// Shedding is cheap (no body parse, a canned answer), so shedding a share frees the CPU that
/// the rest needs. A delay of `hardLimitFactor × target` sheds at the maximum share at once.
/// Value type, one per event loop, touched only on its loop: no locks, testable without I/O.
package struct AdmissionControl: Sendable {
    package struct Configuration: Sendable, Equatable {
        /// The delay the controller holds the system to, in seconds; 0 turns shedding off.
        package var target: Double
        /// Share added per update per `target` of excess delay.
        package var alpha: Double
        /// Share added per update per `target` of delay growth since the previous update.
        package var beta: Double
        /// Share removed per update while the delay is below half the target.
        package var decay: Double
        /// Never shed everything: a trickle keeps measuring the real capacity.
        package var maximumShare: Double
        package var hardLimitFactor: Double
        /// The share of an interval a loop must have spent running or runnable for its lateness
        /// to count as its own backlog.
        package var saturation: Double
        /// The queue age that counts as `target`, in seconds.
        package var queueTarget: Double
        /// The share of an interval spent waiting for a CPU that counts as `target`.
        package var contentionTarget: Double
        /// The share of an interval a loop must spend on a CPU for its waiting to count.
        package var minimumOnCPU: Double

        package init(
            target: Double = 0.005, alpha: Double = 0.1, beta: Double = 0.1, decay: Double = 0.05,
            maximumShare: Double = 0.95, hardLimitFactor: Double = 4, saturation: Double = 0.9, queueTarget: Double = 0.1,
            contentionTarget: Double = 0.2, minimumOnCPU: Double = 0.2
        ) {
            self.queueTarget = queueTarget
            self.contentionTarget = contentionTarget
            self.minimumOnCPU = minimumOnCPU
            self.target = target
            self.alpha = alpha
            self.beta = beta
            self.decay = decay
            self.maximumShare = maximumShare
            self.hardLimitFactor = hardLimitFactor
            self.saturation = saturation
        }
    }

    /// What one interval measured.
    package struct Interval: Sendable, Equatable {
        /// The smallest lateness of the loop's probe in the interval, seconds.
        package var loopDelay: Double
        /// The loop thread's time on a CPU over wall time; nil where the platform does not tell
        /// (then lateness counts as backlog).
        package var onCPU: Double?
        /// The loop thread's time waiting in the run queue over wall time.
        package var waitingForCPU: Double?
        /// Age of the oldest queued write at the end of the interval, seconds.
        package var queueDelay: Double

        package init(loopDelay: Double, onCPU: Double?, waitingForCPU: Double?, queueDelay: Double) {
            self.loopDelay = loopDelay
            self.onCPU = onCPU
            self.waitingForCPU = waitingForCPU
            self.queueDelay = queueDelay
        }
    }

    package let configuration: Configuration
    /// The share of new requests answered 503, in [0, maximumShare].
    package private(set) var shedShare: Double = 0
    private var previousDelay: Double = 0
    private var random: UInt64

    package init(configuration: Configuration = Configuration(), seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        self.configuration = configuration
        self.random = seed | 1
    }

    /// The delay an interval counts for.
    package func delay(of interval: Interval) -> Double {
        let c = configuration
        var saturated = true
        var contention = 0.0
        if let onCPU = interval.onCPU, let waiting = interval.waitingForCPU {
            saturated = onCPU + waiting >= c.saturation
            if onCPU >= c.minimumOnCPU && c.contentionTarget > 0 { contention = waiting * c.target / c.contentionTarget }
        }
        let queueDelay = c.queueTarget > 0 ? interval.queueDelay * c.target / c.queueTarget : 0
        return max(saturated ? interval.loopDelay : 0, queueDelay, contention)
    }

    /// One controller step at the end of an interval.
    package mutating func update(_ interval: Interval) {
        update(delay: delay(of: interval))
    }

    /// One controller step with the interval's delay.
    package mutating func update(delay: Double) {
        let c = configuration
        guard c.target > 0 else { return }  // shedding turned off
        let excess = (delay - c.target) / c.target
        let growth = (delay - previousDelay) / c.target
        previousDelay = delay
        var share = shedShare
        if delay >= c.target * c.hardLimitFactor {
            share = c.maximumShare
        } else if delay > c.target {
            share += c.alpha * excess + c.beta * max(0, growth)
        } else if delay < c.target / 2 {
            share -= c.decay
        }
        shedShare = min(c.maximumShare, max(0, share))
    }

    /// True to take the request, false to shed it.
    package mutating func admit() -> Bool {
        guard shedShare > 0 else { return true }
        // xorshift64*: a fair coin per request without a lock or a syscall.
        random ^= random >> 12
        random ^= random << 25
        random ^= random >> 27
        let draw = Double((random &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 53)
        return draw >= shedShare
    }
}
