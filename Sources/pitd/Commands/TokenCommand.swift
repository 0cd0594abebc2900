import ArgumentParser
import PitModel
import PitQuery
import PitStorage
import PitdServer

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens (Authorization: Bearer for /api/0); replace the admin token.",
        subcommands: [Create.self, List.self, Revoke.self, RotateAdmin.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token. It is printed once; only its hash is kept.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Label shown in token lists.") var label = "API token"
        @Option(parsing: .upToNextOption, help: "Scopes: read, write, admin (Sentry's project:read etc. accepted).")
        var scopes: [String] = ["read"]
        @Flag(help: "Print JSON.") var json = false
        @Flag(
            help: ArgumentHelp(
                "Create a Sentry organization token (sntrys_…) for sentry-cli in CI instead.",
                discussion: "It names this server (public_url) and the organisation, so SENTRY_AUTH_TOKEN is all CI needs."))
        var organization = false

        func run() async throws {
            let settings = try await common.settings()
            let setup = try await DataDirectory(settings: settings).initialise()
            let store = setup.store
            if organization {
                let plain = OrganizationToken.generate(
                    organization: setup.project.organizationSlug, url: settings.publicURL, now: ClockTime.nowMilliseconds)
                let token = try await store.createToken(
                    hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: label, scopes: OrganizationToken.scopes, userID: nil)
                if json {
                    var writer = JSONWriter()
                    SentryAPIRenderer.apiToken(token, plainToken: plain, into: &writer)
                    print(writer.string)
                } else {
                    print(plain)
                }
                return
            }
            let parsed: [TokenScope]
            do throws(AdminError) {
                parsed = try APIToken.requestedScopes(scopes.flatMap { $0.split(separator: ",").map(String.init) })
            } catch {
                throw ValidationError(error.message)
            }
            let plain = Secret.generate(prefix: "pit_tok_")
            let token = try await store.createToken(
                hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: label, scopes: parsed,
                userID: nil)
            if json {
                var writer = JSONWriter()
                SentryAPIRenderer.apiToken(token, plainToken: plain, into: &writer)
                print(writer.string)
            } else {
                print(plain)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API tokens (never their secrets).")

        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let tokens = try await DataDirectory(settings: settings).initialise().store.tokens()
            if json {
                var writer = JSONWriter()
                writer.beginArray()
                for token in tokens { SentryAPIRenderer.apiToken(token, plainToken: nil, into: &writer) }
                writer.endArray()
                print(writer.string)
            } else {
                for token in tokens {
                    let state = token.isRevoked ? "revoked" : "active"
                    print("\(token.id)\t\(token.prefix)…\t\(token.scopes.map(\.rawValue).joined(separator: ","))\t\(state)\t\(token.label)")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API token; it stops working at once.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "Token id (from `pitd token list`).") var id: Int64

        func run() async throws {
            let settings = try await common.settings()
            let store = try await DataDirectory(settings: settings).initialise().store
            guard try await store.revokeToken(id: id, now: ClockTime.nowMilliseconds) else { throw ValidationError("no token \(id)") }
            print("revoked token \(id)")
        }
    }

    struct RotateAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-admin",
            abstract:
                "Replace the admin token: the old one stops working (within a second on a running server) and the browser sessions it opened are closed; the new one is written to <data-dir>/admin-token (mode 0600) and printed."
        )

        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON {admin_token, file}.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let directory = DataDirectory(settings: settings)
            let token = try await directory.rotateAdminToken(store: try await directory.initialise().store)
            if json {
                var writer = JSONWriter()
                writer.beginObject()
                writer.field("admin_token", token)
                writer.field("file", settings.adminTokenPath)
                writer.endObject()
                print(writer.string)
            } else {
                print(token)
            }
        }
    }
}
