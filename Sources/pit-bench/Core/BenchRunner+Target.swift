extension BenchRunner {
    /// The server a run sends to: pitd processes it spawned (one, or several sharing one
    /// PostgreSQL database) or the server behind a DSN.
    struct StartedTarget {
        var spawned: SpawnedServer?
        var others: [SpawnedServer] = []
        var target: LoadTarget
        var settings: [String: String] = [:]

        var description: String {
            guard let spawned else { return target.host + ":\(target.port)" }
            return "spawned pitd" + (others.isEmpty ? "" : " ×\(others.count + 1)") + (spawned.database == nil ? "" : " (PostgreSQL)")
        }

        func stop(removingData: Bool) {
            for server in others { server.stop() }
            spawned?.stop()
            if removingData { removeData() }
        }

        func removeData() {
            for server in others { server.removeData() }
            spawned?.removeData()
        }
    }

    func startTarget() throws -> StartedTarget {
        switch options.target {
        case .spawn(let pitd, let values, let instances):
            let server = try SpawnedServer(pitd: pitd, settings: values)
            var others: [SpawnedServer] = []
            func abandon() {
                for spawned in others + [server] {
                    spawned.stop()
                    spawned.removeData()
                }
            }
            if instances > 1 {
                guard server.database != nil else {
                    abandon()
                    throw BenchError("--instances needs --set database_url=postgres://… (instances share one database)")
                }
                do {
                    for _ in 1..<instances { others.append(try SpawnedServer(pitd: pitd, settings: values, sharing: server)) }
                } catch {
                    abandon()
                    throw error
                }
            }
            var settings = server.settings
            if instances > 1 { settings["instances"] = "\(instances)" }
            guard var target = LoadTarget(dsn: server.dsn, gzip: options.gzip) else {
                abandon()
                throw BenchError("bad DSN \(server.dsn)")
            }
            target.alternates = others.map { (host: "127.0.0.1", port: $0.port) }
            return StartedTarget(spawned: server, others: others, target: target, settings: settings)
        case .dsn(let text, _, _, _):
            guard let target = LoadTarget(dsn: text, gzip: options.gzip) else { throw BenchError("not a DSN: \(text)") }
            return StartedTarget(target: target)
        }
    }
}
