import PitModel
import PitStorage
import Testing

/// The rules both back ends, the API, the web UI and the CLI share (`Storage/Admin/*+Rules`).
@Suite struct AdminRulesTests {
    @Test(arguments: ["", "   ", String(repeating: "x", count: 201)])
    func projectNamesOutsideOneToTwoHundredCharactersAreRefused(name: String) {
        let error = #expect(throws: AdminError.self) { try Project.validatedName(name) }
        #expect(error?.code == .invalid)
        #expect(error?.message == "a project name is 1-200 characters")
    }

    @Test func projectNamesAreTrimmed() throws {
        #expect(try Project.validatedName("  Backend  ") == "Backend")
        #expect(try Project.validatedName(String(repeating: "é", count: 200)).count == 200)
    }

    @Test func newProjectIDsArePositive() {
        #expect(throws: AdminError.invalid("project id must be positive")) { try Project.validateNewID(0) }
        #expect(throws: Never.self) { try Project.validateNewID(1) }
        #expect(Project.idTaken(7) == .conflict("project 7 already exists"))
        #expect(Project.missing(7) == .notFound("project 7 does not exist"))
    }

    @Test func slugsAreLowercaseDashedAndNeverEmpty() {
        #expect(Project.slugify("My Backend API!") == "my-backend-api")
        #expect(Project.slugify("--") == "project")
        #expect(Project.slugify(String(repeating: "a", count: 80)).count == 50)
    }

    @Test func takenSlugsGetTheFirstFreeSuffix() {
        #expect(Project.uniqueSlug(for: "Web", taken: []) == "web")
        #expect(Project.uniqueSlug(for: "Web", taken: ["web"]) == "web-2")
        #expect(Project.uniqueSlug(for: "Web", taken: ["web", "web-2", "web-4"]) == "web-3")
    }

    @Test func publicKeysAreKeptWhenPlausibleAndGeneratedWhenAbsent() throws {
        #expect(try ProjectKey.validatedPublicKey("my-key_1") == "my-key_1")
        let generated = try ProjectKey.validatedPublicKey(nil)
        #expect(generated.count == 32 && SentryAuth.isPlausibleKey(generated))
        let error = #expect(throws: AdminError.self) { try ProjectKey.validatedPublicKey("no spaces") }
        #expect(error?.code == .invalid)
        #expect(ProjectKey.publicKeyTaken("abc") == .conflict("public key abc already exists"))
    }

    @Test func keyLabelsDefaultAndAreCut() {
        #expect(ProjectKey.storedLabel(nil) == "Default")
        #expect(ProjectKey.storedLabel(String(repeating: "l", count: 300)).count == 200)
    }

    @Test func storedRateLimitsKeepTheirFloor() {
        #expect(throws: AdminError.invalid("a rate limit is a count >= 0 per window of >= 1 second")) {
            try ProjectKey.RateLimit(count: 1, windowSeconds: 0).validate()
        }
        #expect(throws: AdminError.self) { try ProjectKey.RateLimit(count: -1, windowSeconds: 60).validate() }
        #expect(throws: Never.self) { try ProjectKey.RateLimit(count: 0, windowSeconds: 1).validate() }
    }

    @Test func emailsAreTrimmedAndMustBePlausible() throws {
        #expect(try User.validatedEmail("  ada@example.com ") == "ada@example.com")
        #expect(throws: AdminError.invalid("ada@localhost is not an email address")) { try User.validatedEmail("ada@localhost") }
        #expect(User.emailTaken("a@b.c") == .conflict("a user with email a@b.c already exists"))
    }

    @Test func passwordsHaveEightCharactersToOneKilobyte() {
        #expect(throws: AdminError.invalid("a password has at least 8 characters")) { try User.validatePassword("short") }
        #expect(throws: AdminError.invalid("a password has at most 1,024 bytes")) {
            try User.validatePassword(String(repeating: "é", count: 600))
        }
        #expect(throws: Never.self) { try User.validatePassword("eight ch") }
    }

    @Test func tokensNeedAScopeAndRoundTripTheirScopes() throws {
        #expect(throws: AdminError.invalid("a token needs at least one scope (read, write, admin)")) { try APIToken.storedScopes([]) }
        let stored = try APIToken.storedScopes([.read, .admin])
        #expect(stored == "read admin")
        #expect(APIToken.scopes(stored: stored + " bogus") == [.read, .admin])
        #expect(APIToken.storedLabel(String(repeating: "t", count: 250)).count == 200)
    }

    @Test func requestedScopesAcceptSentrySpellingsDropDuplicatesAndDefaultToRead() throws {
        #expect(try APIToken.requestedScopes([]) == [.read])
        #expect(try APIToken.requestedScopes(["project:read", "event:write", "read", "ADMIN"]) == [.read, .write, .admin])
        #expect(throws: AdminError.invalid("unknown scope project:delete (read, write, admin)")) {
            try APIToken.requestedScopes(["read", "project:delete"])
        }
    }

    @Test func retentionDaysAreZeroToTheMaximum() throws {
        #expect(try RetentionPolicy.validatedDays(0) == 0)
        #expect(try RetentionPolicy.validatedDays(RetentionPolicy.maximumDays) == RetentionPolicy.maximumDays)
        for days in [-1, RetentionPolicy.maximumDays + 1] {
            #expect(throws: AdminError.invalid("retention days must be 0 (keep forever) to \(RetentionPolicy.maximumDays)")) {
                try RetentionPolicy.validatedDays(days)
            }
        }
    }

    @Test func tokenUseIsStampedAtMinutePrecision() {
        var token = APIToken(
            id: 1, label: "t", scopes: [.read], prefix: "pit_tok_", userID: nil, createdAt: 0, lastUsedAt: nil, revokedAt: nil)
        #expect(token.needsUsageStamp(now: 1_000_000))
        token.lastUsedAt = 1_000_000
        #expect(!token.needsUsageStamp(now: 1_060_000))
        #expect(token.needsUsageStamp(now: 1_060_001))
    }
}
