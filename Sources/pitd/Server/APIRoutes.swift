import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// The Sentry-shaped JSON API under `/api/0`, behind `Authorization: Bearer <token>` (the admin
/// token or an API token; reads need `read`, changes `write`, keys/tokens/projects `admin`).
///
/// Every handler resolves the project from the URL first and checks that the object asked for
/// belongs to it, so one project's data is never reachable through another project's URL.
struct APIRoutes: Sendable {
    let admin: AdminAccess
    let reader: any ReadStore
    let queue: IngestQueue
    let baseURL: String
    /// Reloaded after a key changes here, so this instance applies it at once (others within
    /// `key_refresh_seconds`).
    let keys: KeyCache
    /// Per-project retention overrides (`/retention/`); nil where the server runs without one.
    var retention: RetentionPolicy? = nil
    /// The one organisation's slug, for the member routes.
    var organization = "pit"
    /// Told when a project's artifact bundles change, so its next JavaScript event looks them up
    /// at once instead of trusting its cached "no bundles" for up to 10 s.
    var sourceMaps: SourceMapResolver? = nil
    /// Alert rules and channels; nil where the server runs without them (some route tests).
    var alerts: AlertAccess? = nil

    func register(on router: Router<PitRequestContext>, authenticator: Authenticator) {
        let api = router.group("api/0").add(middleware: APIAuthMiddleware(authenticator: authenticator))
        api.get("") { _, context in try await apiRoot(context) }
        api.get("projects") { _, _ in try await listProjects() }
        api.get("organizations/:org/projects") { _, _ in try await listProjects() }
        api.post("teams/:org/:team/projects") { request, context in try await createProject(request, context) }
        api.get("projects/:org/:project") { _, context in try await projectDetail(context) }
        api.put("projects/:org/:project") { request, context in try await renameProject(request, context) }
        api.get("projects/:org/:project/issues") { request, context in try await listIssues(request, context) }
        api.put("projects/:org/:project/issues") { request, context in try await bulkUpdate(request, context) }
        api.get("organizations/:org/issues") { request, context in try await listOrganizationIssues(request, context) }
        api.get("projects/:org/:project/events") { request, context in try await projectEvents(request, context) }
        api.get("projects/:org/:project/events/:event") { _, context in try await projectEvent(context) }
        api.get("projects/:org/:project/events/:event/attachments") { _, context in try await eventAttachments(context) }
        api.get("projects/:org/:project/events/:event/attachments/:attachment") { request, context in
            try await eventAttachment(request, context)
        }
        api.get("projects/:org/:project/user-feedback") { request, context in try await userFeedback(request, context) }
        registerVerify(on: api)
        api.get("projects/:org/:project/releases") { request, context in try await releases(request, context, projectScoped: true) }
        api.post("projects/:org/:project/releases") { request, context in try await createRelease(request, context, projectScoped: true) }
        api.get("projects/:org/:project/releases/:version") { request, context in
            try await releaseDetail(request, context, projectScoped: true)
        }
        api.put("projects/:org/:project/releases/:version") { request, context in try await updateRelease(request, context) }
        api.get("projects/:org/:project/stats") { request, context in try await projectStats(request, context) }
        api.get("projects/:org/:project/environments") { _, context in try await environments(context) }
        api.get("projects/:org/:project/retention") { _, context in try await projectRetention(context) }
        api.put("projects/:org/:project/retention") { request, context in try await setProjectRetention(request, context) }
        api.get("organizations/:org/releases") { request, context in try await releases(request, context, projectScoped: false) }
        api.get("organizations/:org/releases/:version") { request, context in try await releaseDetail(request, context) }
        api.post("organizations/:org/releases") { request, context in try await createRelease(request, context) }
        api.put("organizations/:org/releases/:version") { request, context in try await updateRelease(request, context) }
        api.get("organizations/:org/releases/:version/deploys") { _, context in try await listDeploys(context) }
        api.post("organizations/:org/releases/:version/deploys") { request, context in try await createDeploy(request, context) }
        api.get("organizations/:org/releases/:version/previous-with-commits") { _, context in
            try await previousReleaseWithCommits(context)
        }
        api.get("organizations/:org/repos") { _, context in try await listRepositories(context) }
        api.get("organizations/:org/chunk-upload") { _, context in try await chunkUploadOptions(context) }
        api.post("organizations/:org/chunk-upload") { request, context in try await uploadChunks(request, context) }
        api.post("organizations/:org/artifactbundle/assemble") { request, context in try await assembleArtifactBundle(request, context) }
        api.post("projects/:org/:project/files/difs/assemble") { request, context in try await assembleDebugFiles(request, context) }
        api.get("projects/:org/:project/files/dsyms") { _, context in try await listDebugFiles(context) }
        api.get("projects/:org/:project/files/artifact-bundles") { _, context in try await listArtifactBundles(context) }
        api.get("projects/:org/:project/artifact-bundles/:bundle/files") { _, context in try await artifactBundleFiles(context) }
        api.get("organizations/:org/org-auth-tokens") { _, context in try await listOrganizationTokens(context) }
        api.post("organizations/:org/org-auth-tokens") { request, context in try await createOrganizationToken(request, context) }
        api.get("organizations/:org/sessions") { request, context in try await sessions(request, context) }
        api.get("organizations/:org/events") { request, context in try await organizationEvents(request, context) }
        registerTraces(on: api)
        registerProfiles(on: api)
        api.get("organizations/:org/stats_v2") { request, context in try await statsV2(request, context) }
        api.get("organizations/:org/monitors") { request, context in try await monitors(request, context) }
        api.get("organizations/:org/monitors/:slug") { request, context in try await monitorDetail(request, context) }
        api.get("organizations/:org/monitors/:slug/checkins") { request, context in try await monitorCheckIns(request, context) }
        api.get("projects/:org/:project/keys") { _, context in try await listKeys(context) }
        api.post("projects/:org/:project/keys") { request, context in try await createKey(request, context) }
        api.put("projects/:org/:project/keys/:key") { request, context in try await updateKey(request, context) }
        api.delete("projects/:org/:project/keys/:key") { _, context in try await disableKey(context) }
        api.get("api-tokens") { _, context in try await listTokens(context) }
        api.post("api-tokens") { request, context in try await createToken(request, context) }
        api.delete("api-tokens/:id") { _, context in try await revokeToken(context) }
        api.get("users/:user") { _, context in try await userDetail(context) }
        api.put("users/:user") { request, context in try await updateUser(request, context) }
        api.get("organizations/:org/members") { _, context in try await listMembers(context) }
        api.get("organizations/:org/members/:member") { _, context in try await memberDetail(context) }
        api.delete("organizations/:org/members/:member") { _, context in try await removeMember(context) }
        api.get("projects/:org/:project/rules") { _, context in try await listRules(context) }
        api.post("projects/:org/:project/rules") { request, context in try await createRule(request, context) }
        api.get("projects/:org/:project/rules/:rule") { _, context in try await ruleDetail(context) }
        api.put("projects/:org/:project/rules/:rule") { request, context in try await updateRule(request, context) }
        api.delete("projects/:org/:project/rules/:rule") { _, context in try await deleteRule(context) }
        api.get("projects/:org/:project/alert-ceiling") { _, context in try await alertCeiling(context) }
        api.put("projects/:org/:project/alert-ceiling") { request, context in try await setAlertCeiling(request, context) }
        api.get("organizations/:org/alert-channels") { _, context in try await listChannels(context) }
        api.post("organizations/:org/alert-channels") { request, context in try await createChannel(request, context) }
        api.delete("organizations/:org/alert-channels/:channel") { _, context in try await deleteChannel(context) }
        api.post("organizations/:org/alert-channels/:channel/test") { _, context in try await testChannel(context) }
        api.get("organizations/:org/alert-channels/:channel/deliveries") { request, context in
            try await channelDeliveries(request, context)
        }
        api.get("issues/:id") { _, context in try await issueDetail(context) }
        api.put("issues/:id") { request, context in try await updateIssue(request, context) }
        api.get("issues/:id/events") { request, context in try await issueEvents(request, context) }
        api.get("issues/:id/events/:event") { _, context in try await issueEvent(context) }
        api.get("issues/:id/tags") { request, context in try await issueTags(request, context) }
        api.get("issues/:id/tags/:key") { request, context in try await issueTag(request, context) }
        api.get("issues/:id/tags/:key/values") { request, context in try await issueTagValues(request, context) }
    }
}
