import ArgumentParser
import Foundation
import PitModel
import PitStorage
import PitdServer

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create, list, disable and enable the accounts that sign in to the web UI.",
        subcommands: [Create.self, List.self, SetPassword.self, Disable.self, Enable.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user with a password (asked for, or read from stdin).")

        @OptionGroup var common: CommonOptions
        @Argument(help: "Email address (the sign-in name).") var email: String
        @Flag(help: "Read the password from the first line of stdin instead of asking.") var passwordStdin = false
        @Flag(help: "May manage DSN keys, API tokens and projects.") var admin = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let setup = try await DataDirectory(settings: settings).initialise()
            let password = try readPassword(fromStdin: passwordStdin)
            let user: User
            do {
                user = try await setup.store.createUser(email: email, passwordHash: try PasswordHash.make(password), isAdmin: admin)
            } catch let error as AdminError {
                throw ValidationError(error.description)
            }
            if json {
                var writer = JSONWriter()
                writeUser(user, into: &writer)
                print(writer.string)
            } else {
                print("created user \(user.email) (id \(user.id)\(user.isAdmin ? ", admin" : ""))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")

        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let users = try await DataDirectory(settings: settings).initialise().store.users()
            if json {
                var writer = JSONWriter()
                writer.beginArray()
                for user in users { writeUser(user, into: &writer) }
                writer.endArray()
                print(writer.string)
            } else {
                for user in users {
                    print("\(user.id)\t\(user.email)\t\(user.isAdmin ? "admin" : "member")\t\(user.isActive ? "active" : "disabled")")
                }
            }
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set a user's password; signs the user out everywhere and revokes the user's API tokens (unless --keep-tokens)."
        )

        @OptionGroup var common: CommonOptions
        @Argument(help: "Email address.") var email: String
        @Flag(help: "Read the password from the first line of stdin instead of asking.") var passwordStdin = false
        @Flag(
            help: "Leave the user's API tokens working (by default a reset revokes them: whoever knew the old password may have made some)."
        )
        var keepTokens = false

        func run() async throws {
            let settings = try await common.settings()
            let store = try await DataDirectory(settings: settings).initialise().store
            guard let user = try await store.user(email: email) else { throw ValidationError("no user with email \(email)") }
            let revoked = try await store.setPassword(
                userID: user.id, passwordHash: try PasswordHash.make(try readPassword(fromStdin: passwordStdin)),
                revokeTokens: !keepTokens)
            print("password changed for \(user.email); signed out everywhere" + (keepTokens ? "" : ", \(revoked) API token(s) revoked"))
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: signed out at once, sign-ins refused, the user's API tokens stop working (until `pitd user enable`)."
        )

        @OptionGroup var common: CommonOptions
        @Argument(help: "Email address.") var email: String

        func run() async throws {
            let user = try await setActive(false, email: email, common: common)
            print("disabled \(user.email)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "Email address.") var email: String

        func run() async throws {
            let user = try await setActive(true, email: email, common: common)
            print("enabled \(user.email)")
        }
    }
}

private func setActive(_ active: Bool, email: String, common: CommonOptions) async throws -> User {
    let settings = try await common.settings()
    let store = try await DataDirectory(settings: settings).initialise().store
    guard let user = try await store.user(email: email),
        let updated = try await store.setUserActive(id: user.id, active: active, now: ClockTime.nowMilliseconds)
    else { throw ValidationError("no user with email \(email)") }
    return updated
}

/// `User.validatePassword`'s rule, as a usage error.
func validatePassword(_ password: String) throws {
    do {
        try User.validatePassword(password)
    } catch {
        throw ValidationError(error.message)
    }
}

private func readPassword(fromStdin: Bool) throws -> String {
    let password: String
    if fromStdin {
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password on stdin") }
        password = line
    } else {
        guard let first = getpass("Password: ").map({ String(cString: $0) }) else { throw ValidationError("no password given") }
        guard let second = getpass("Again: ").map({ String(cString: $0) }), first == second else {
            throw ValidationError("the passwords differ")
        }
        password = first
    }
    try validatePassword(password)
    return password
}

private func writeUser(_ user: User, into writer: inout JSONWriter) {
    writer.beginObject()
    writer.field("id", user.id)
    writer.field("email", user.email)
    writer.field("is_admin", user.isAdmin)
    writer.field("is_active", user.isActive)
    writer.field("created_at", Timestamp.format(milliseconds: user.createdAt))
    writer.endObject()
}
