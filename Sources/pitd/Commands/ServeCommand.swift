import ArgumentParser
import Foundation
import Logging
import PitModel
import PitdServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the server. Initialises the data directory first when needed."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Listen address HOST:PORT (default 127.0.0.1:8000, or the setting `bind`).")
    var bind: String?

    func run() async throws {
        let settings = try await common.settings(extra: bind.map { ["bind": $0] } ?? [:])
        var logger = Logger(label: "pitd")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel.lowercased()) ?? .info
        try await PitServer.run(settings: settings, logger: logger)
    }
}
