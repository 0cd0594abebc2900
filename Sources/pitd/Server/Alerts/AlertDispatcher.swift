import Foundation
import Logging
import NIOCore
import PitModel
import PitQuery
import PitStorage
import ServiceLifecycle

/// Sends the stored deliveries: it claims the due ones (a lease, so that another instance or a
/// restart after a crash takes over those it never finished), sends each to its channel, and
/// records every attempt with its status code and latency. A failure is retried with exponential
/// back-off for 24 hours, then marked failed, never dropped unseen. Digest channels' held
/// deliveries become one delivery per interval here.
final class AlertDispatcher: Service, Sendable {
    struct Configuration: Sendable {
        /// The first retry's delay; each next one doubles it, up to an hour.
        var retryBaseMilliseconds: Int64 = 30_000
        var pollMilliseconds: Int64 = 1000
        var leaseMilliseconds: Int64 = 60_000
        var batch = 32
    }

    private let store: any AlertStore
    private let admin: AdminAccess
    private let reader: any ReadStore
    private let secrets: SecretBox
    private let client: WebhookClient
    /// nil when no `smtp_host` is set: email deliveries then fail (and are retried) with that reason.
    private let mailer: SMTPClient?
    private let publicURL: String
    private let organization: String
    private let configuration: Configuration
    private let logger: Logger
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    init(
        store: any AlertStore, admin: AdminAccess, reader: any ReadStore, secrets: SecretBox, client: WebhookClient, mailer: SMTPClient?,
        publicURL: String,
        organization: String, configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.store = store
        self.admin = admin
        self.reader = reader
        self.secrets = secrets
        self.client = client
        self.mailer = mailer
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.organization = organization
        self.configuration = configuration
        self.logger = logger
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Sends what is due now instead of at the next poll.
    func wake() { wakeup.yield() }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [configuration, wakeup] in
                // The poll: retries and digests fall due without anyone waking the dispatcher.
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(configuration.pollMilliseconds)) }
                    wakeup.yield()
                }
                wakeup.finish()
            }
            for await _ in wakeups.cancelOnGracefulShutdown() {
                do {
                    while try await pass(now: ClockTime.nowMilliseconds) == configuration.batch {}
                } catch {
                    logger.warning("alert delivery pass failed", metadata: ["error": "\(error)"])
                }
            }
            group.cancelAll()
        }
    }

    /// Sends what is due at `now`; returns how many deliveries it attempted.
    @discardableResult
    func pass(now: Int64) async throws -> Int {
        _ = try await store.collectDigests(now: now)
        let due = try await store.claimDue(now: now, limit: configuration.batch, leaseUntil: now + configuration.leaseMilliseconds)
        guard !due.isEmpty else { return 0 }
        let channels = Dictionary(uniqueKeysWithValues: try await store.channels().map { ($0.id, $0) })
        await withTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask { [self] in
                    let attempt = await send(delivery, channel: channels[delivery.channelID])
                    do { try await store.record(attempt) } catch {
                        // The lease runs out and the delivery is claimed again: late, not lost.
                        logger.warning("alert attempt not recorded", metadata: ["pit.delivery": "\(delivery.id)", "error": "\(error)"])
                    }
                }
            }
        }
        return due.count
    }

    private func send(_ delivery: AlertDelivery, channel: AlertChannel?) async -> AlertDelivery.Attempt {
        let started = ClockTime.monotonicSeconds
        var code: Int64?
        var failure: String?
        do {
            guard let channel else { throw WebhookClient.Failure(description: "the channel was deleted") }
            let message = await message(for: delivery)
            let status: Int
            switch channel.kind {
            case .email:
                status = try await sendEmail(message, to: channel.recipient)
            case .webhook:
                let body = message.webhookJSON()
                var headers: [(String, String)] = []
                if let sealed = try await store.sealedSecret(channelID: channel.id) {
                    headers.append(("X-Pit-Signature", AlertMessage.signature(body: body, secret: try secrets.unseal(sealed))))
                }
                headers.append(("X-Pit-Delivery", "\(delivery.id)"))
                status = try await client.post(url: channel.url, body: body, headers: headers)
            case .slack: status = try await client.post(url: channel.url, body: message.slackJSON(), headers: [])
            case .discord: status = try await client.post(url: channel.url, body: message.discordJSON(), headers: [])
            case .mattermost: status = try await client.post(url: channel.url, body: message.mattermostJSON(), headers: [])
            }
            code = Int64(status)
            if channel.kind != .email, !(200..<300).contains(status) { failure = "the receiver answered \(status)" }
        } catch let refused as SMTPClient.Failure {
            code = refused.code.map(Int64.init)
            failure = refused.description
        } catch {
            failure = "\(error)"
        }
        let now = ClockTime.nowMilliseconds
        let latency = Int64((ClockTime.monotonicSeconds - started) * 1000)
        let next =
            failure == nil
            ? nil
            : AlertDelivery.nextAttempt(
                after: delivery.attempts + 1, now: now, createdAt: delivery.createdAt, baseMilliseconds: configuration.retryBaseMilliseconds
            )
        if let failure {
            logger.info(
                "alert delivery failed", metadata: ["pit.delivery": "\(delivery.id)", "error": "\(failure)", "pit.retry": "\(next != nil)"])
        }
        return AlertDelivery.Attempt(
            deliveryID: delivery.id, attemptedAt: now, responseCode: code, latencyMilliseconds: latency, error: failure,
            nextAttemptAt: next,
            succeeded: failure == nil)
    }

    /// Sends the email form of `message`; answers the server's final reply code (250).
    private func sendEmail(_ message: AlertMessage, to recipient: String?) async throws -> Int {
        guard let mailer else {
            throw SMTPClient.Failure(description: "no SMTP server is configured (set smtp_host and smtp_from)")
        }
        guard let recipient else { throw SMTPClient.Failure(description: "the channel has no address") }
        let from = mailer.configuration.from
        let messageID = "\(UUID().uuidString.lowercased()).\(message.deliveryID)@\(SMTPClient.heloName(from))"
        let text = message.email(from: from, to: recipient, date: Date(), messageID: messageID)
        return try await mailer.send(text, to: recipient)
    }

    /// What the notification names, read now: the issue may have been renamed or deleted since.
    private func message(for delivery: AlertDelivery) async -> AlertMessage {
        let notification = delivery.notification
        var message = AlertMessage(
            notification: notification, organization: organization, title: notification.title, deliveryID: delivery.id)
        if let projectID = notification.projectID, let project = try? await admin({ try await $0.project(id: projectID) }) {
            message.projectSlug = project.slug
            message.projectURL = publicURL + Paths.issues(org: organization, project: projectID)
        }
        if let issueID = notification.issueID, let issue = try? await reader.issue(id: issueID), issue.projectID == notification.projectID {
            message.title = issue.title
            message.culprit = issue.culprit
            if let slug = message.projectSlug { message.shortID = SentryAPIRenderer.shortID(projectSlug: slug, number: issue.shortID) }
            message.issueURL = publicURL + Paths.issue(org: organization, id: issueID)
        }
        return message
    }
}
