import Foundation
import PitBenchCore
import Testing

/// `pit-bench --rate R --duration D` with neither `--dsn` nor `--spawn`.
struct DefaultTargetTests {
    let local = DefaultTarget.LocalServer(dsn: "http://0123abcd@127.0.0.1:8000/1", url: "http://127.0.0.1:8000", adminToken: "pit_x")

    @Test func pitDSNComesFirstAndPitDataIsNotProbed() {
        let choice = DefaultTarget.choose(environment: ["PIT_DSN": "https://0123abcd:5ec4e7@pit.example.com/3"]) {
            Issue.record("./pit-data probed although PIT_DSN is set")
            return local
        }
        #expect(choice == .environment(dsn: "https://0123abcd:5ec4e7@pit.example.com/3"))
        #expect(DefaultTarget.describe(choice) == "target: https://0123abcd:***@pit.example.com/3 (from PIT_DSN)")
    }

    @Test func thenThePitdServingPitData() {
        let choice = DefaultTarget.choose(environment: ["PATH": "/usr/bin"]) { local }
        #expect(choice == .local(local))
        #expect(DefaultTarget.describe(choice) == "target: pitd serving ./pit-data at http://127.0.0.1:8000 (no PIT_DSN)")
    }

    @Test func elseASpawnedPitd() {
        let choice = DefaultTarget.choose(environment: ["PIT_DSN": ""]) { nil }
        #expect(choice == .spawn)
        #expect(DefaultTarget.describe(choice) == "target: spawned pitd (no PIT_DSN, no pitd serving ./pit-data)")
    }
}

/// Finding the pitd of a data directory, with a stand-in `pitd` that prints what `pitd init --json`
/// prints and a stub server that answers every request.
@Suite(.serialized)
struct FindLocalServerTests {
    struct Fixture {
        let root: URL
        var dataDirectory: String { root.appendingPathComponent("pit-data").path }
        var pitd: String { root.appendingPathComponent("pitd").path }
        var invocations: String { root.appendingPathComponent("invocations").path }

        init(port: Int, createDataDirectory: Bool = true) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("pit-default-target-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            if createDataDirectory {
                try FileManager.default.createDirectory(
                    atPath: root.appendingPathComponent("pit-data").path, withIntermediateDirectories: true)
                try Data().write(to: root.appendingPathComponent("pit-data/pit.sqlite"))
            }
            let json =
                #"{"dsn":"http://0123abcd@127.0.0.1:\#(port)/1","project_id":1,"public_key":"0123abcd","admin_token":"pit_x","url":"http://127.0.0.1:\#(port)"}"#
            let script = """
                #!/bin/sh
                echo "$@" >> '\(root.appendingPathComponent("invocations").path)'
                echo 'a log line before the JSON'
                echo '\(json)'
                """
            try Data(script.utf8).write(to: root.appendingPathComponent("pitd"))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("pitd").path)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    @Test func aServerThatAcceptsTheAdminTokenIsFound() async throws {
        let server = StubServer()
        try await server.start()
        let fixture = try Fixture(port: server.port)
        defer { fixture.remove() }
        let found = DefaultTarget.findServer(dataDirectory: fixture.dataDirectory, pitd: fixture.pitd)
        try await server.stop()
        #expect(
            found
                == DefaultTarget.LocalServer(
                    dsn: "http://0123abcd@127.0.0.1:\(server.port)/1", url: "http://127.0.0.1:\(server.port)",
                    adminToken: "pit_x"))
        let invocation = try String(contentsOfFile: fixture.invocations, encoding: .utf8)
        #expect(invocation == "init --data-dir \(fixture.dataDirectory) --json\n")
    }

    @Test func nothingListeningMeansNoServer() throws {
        let fixture = try Fixture(port: try SpawnedServer.freePort())
        defer { fixture.remove() }
        #expect(DefaultTarget.findServer(dataDirectory: fixture.dataDirectory, pitd: fixture.pitd) == nil)
    }

    @Test func withoutADataDirectoryPitdInitIsNotRun() throws {
        let fixture = try Fixture(port: try SpawnedServer.freePort(), createDataDirectory: false)
        defer { fixture.remove() }
        #expect(DefaultTarget.findServer(dataDirectory: fixture.dataDirectory, pitd: fixture.pitd) == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.invocations), "pitd init would have created ./pit-data")
    }
}
