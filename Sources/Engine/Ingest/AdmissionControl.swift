/// Decides, when a request's head arrives and before its body is read, whether to take it or to
/// answer 503 + Retry-After at once.
///
/// The signal is delay: how late an event loop runs a periodic probe (late when requests wait in
/// socket buffers for a loop that has no time left) and how long the oldest queued write has
/// waited for the writer. Both stay near zero below capacity. Past it, a queue-length bound alone
/// (the ingest queue's) never fires: the backlog sits in the clients and the kernel, and latency
/// climbs to seconds while every request is still taken.
///
/// Delay samples are taken often (every 2 ms) and judged by their minimum over an interval, as
/// CoDel does: a loop that was late on every probe of the interval has a standing backlog, while
/// one late probe is a burst or the scheduler giving the core to another thread, not overload.
/// The controller then follows PIE (RFC 8033): the share of new requests shed rises in
/// proportion to how far that delay is above `target` and how fast it grows, and decays once it
/// is back below.
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
        /// Samples whose minimum makes one update.
        package var samplesPerUpdate: Int

        package init(target: Double = 0.005, alpha: Double = 0.1, beta: Double = 0.1, decay: Double = 0.05,
                     maximumShare: Double = 0.95, hardLimitFactor: Double = 4, samplesPerUpdate: Int = 10)
        {
            self.samplesPerUpdate = max(1, samplesPerUpdate)
            self.target = target
            self.alpha = alpha
            self.beta = beta
            self.decay = decay
            self.maximumShare = maximumShare
            self.hardLimitFactor = hardLimitFactor
        }
    }

    package let configuration: Configuration
    /// The share of new requests answered 503, in [0, maximumShare].
    package private(set) var shedShare: Double = 0
    private var previousDelay: Double = 0
    private var minimumDelay = Double.infinity
    private var samples = 0
    private var random: UInt64

    package init(configuration: Configuration = Configuration(), seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        self.configuration = configuration
        self.random = seed | 1
    }

    /// Feeds one delay sample (seconds); called at a fixed period (the loop's probe). Every
    /// `samplesPerUpdate` samples, their minimum updates the share.
    package mutating func observe(delay: Double) {
        minimumDelay = min(minimumDelay, delay)
        samples += 1
        guard samples >= configuration.samplesPerUpdate else { return }
        update(delay: minimumDelay)
        minimumDelay = .infinity
        samples = 0
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
