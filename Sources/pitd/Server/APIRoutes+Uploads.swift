import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// sentry-cli's chunked uploads (`sourcemaps upload`, `debug-files upload`): the options
/// (`GET /organizations/{org}/chunk-upload/`), the chunks (`POST` of multipart parts named by
/// their SHA-1, gzip when asked), then the assembly of a file from its chunks with Sentry's
/// missing-chunks protocol: an assemble call names the file's checksum and chunks, and is
/// answered `ok` when the file is stored already, `not_found` with the chunks it lacks, or
/// `ok`/`error` once it is assembled from them. Chunks are stored by their SHA-1, so a chunk
/// sent twice is stored once and a file uploaded twice sends none.
extension APIRoutes {
    static let chunkSize = 8 * 1024 * 1024
    static let chunksPerRequest = 64
    static let maxChunkRequestBytes = 32 * 1024 * 1024
    /// Bundles and debug files are assembled in memory.
    static let maxUploadFileBytes = 256 * 1024 * 1024
    /// An assemble call lists every chunk of its files (41 bytes each) and, for debug files, many files.
    static let maxAssembleBodyBytes = 4 * 1024 * 1024

    func chunkUploadOptions(_ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("url", "\(baseURL)/api/0/organizations/\(organization)/chunk-upload/")
        writer.field("chunkSize", Self.chunkSize)
        writer.field("chunksPerRequest", Self.chunksPerRequest)
        writer.field("maxFileSize", Self.maxUploadFileBytes)
        writer.field("maxRequestSize", Self.maxChunkRequestBytes)
        writer.field("concurrency", 4)
        writer.field("hashAlgorithm", "sha1")
        writer.key("compression")
        writer.beginArray()
        writer.value("gzip")
        writer.endArray()
        writer.key("accept")
        writer.beginArray()
        // `artifact_bundles_v2`: sentry-cli asks which chunks are missing before it sends any.
        let kinds = [
            "debug_files", "release_files", "pdbs", "sources", "bcsymbolmaps", "il2cpp", "portablepdbs", "artifact_bundles",
            "artifact_bundles_v2", "proguard",
        ]
        for kind in kinds {
            writer.value(kind)
        }
        writer.endArray()
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    /// One or more chunks, each a part named `file` (or `file_gzip`, gzip-compressed) whose file
    /// name is the SHA-1 of its uncompressed bytes; a chunk whose bytes do not match is refused.
    func uploadChunks(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        guard let boundary = MultipartForm.boundary(contentType: request.headers[.contentType]) else {
            throw HTTPError(.badRequest, message: "Chunks must be sent as multipart/form-data.")
        }
        let body = try await request.body.collect(upTo: Self.maxChunkRequestBytes)
        let form: MultipartForm
        do {
            form = try MultipartForm.parse(body, boundary: boundary, maxParts: Self.chunksPerRequest)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let now = ClockTime.nowMilliseconds
        var chunks: [(String, [UInt8])] = []
        for part in form.parts where part.name == "file" || part.name == "file_gzip" {
            guard let checksum = part.filename?.lowercased(), Self.isSHA1(checksum) else {
                throw HTTPError(.badRequest, message: "Each chunk's file name must be its SHA-1.")
            }
            let bytes: ByteBuffer
            do {
                bytes = try BodyDecoder.decode(part.body, encoding: part.name == "file_gzip" ? .gzip : .identity, limit: Self.chunkSize)
            } catch {
                throw HTTPError(.badRequest, message: "Chunk \(checksum) could not be decompressed.")
            }
            let contents = Array(bytes.readableBytesView)
            guard ArtifactBundleReader.sha1Hex(contents) == checksum else {
                throw HTTPError(.badRequest, message: "Chunk \(checksum) does not match its checksum.")
            }
            chunks.append((checksum, contents))
        }
        for (checksum, contents) in chunks {
            try await admin({ try await $0.storeChunk(checksum: checksum, bytes: contents, now: now) })
        }
        return Response(status: .ok)
    }

    /// `{"checksum", "chunks": [sha1], "projects": [slug], "version"?, "dist"?}`.
    func assembleArtifactBundle(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await organizationProjects(context)
        let (checksum, chunkList, slugs, version, dist) = try await APIBody.read(request, limit: Self.maxAssembleBodyBytes) { json in
            (
                json.string(json.member(0, "checksum"))?.lowercased(),
                json.member(0, "chunks").map { json.elements($0).compactMap { json.string($0)?.lowercased() } } ?? [],
                json.member(0, "projects").map { json.elements($0).compactMap { json.string($0) } } ?? [],
                json.string(json.member(0, "version")).flatMap { $0.isEmpty ? nil : $0 },
                json.string(json.member(0, "dist")).flatMap { $0.isEmpty ? nil : $0 }
            )
        }
        guard let checksum, Self.isSHA1(checksum), chunkList.allSatisfy(Self.isSHA1) else {
            throw HTTPError(.badRequest, message: "checksum and chunks must be SHA-1 hashes.")
        }
        let targets = try Self.projects(named: slugs, in: projects)
        var stored = true
        for project in targets where try await admin({ try await $0.artifactBundle(projectID: project.id, checksum: checksum) }) == nil {
            stored = false
        }
        if stored { return Self.assembleAnswer(state: "ok", missing: []) }
        switch try await assemble(checksum: checksum, chunks: chunkList) {
        case .missing(let missing): return Self.assembleAnswer(state: "not_found", missing: missing)
        case .failed(let detail): return Self.assembleAnswer(state: "error", missing: [], detail: detail)
        case .assembled(let zip):
            var bundle: ArtifactBundleUpload
            do {
                bundle = try ArtifactBundleReader.read(zip, checksum: checksum)
            } catch {
                return Self.assembleAnswer(state: "error", missing: [], detail: error.description)
            }
            // The request's release and dist win: `sourcemaps upload --release` names them there.
            bundle.release = version ?? bundle.release
            bundle.dist = dist ?? bundle.dist
            let now = ClockTime.nowMilliseconds
            for project in targets {
                _ = try await admin({ [bundle] in try await $0.storeArtifactBundle(bundle, projectID: project.id, now: now) })
                sourceMaps?.artifactsChanged(projectID: project.id)
            }
            return Self.assembleAnswer(state: "ok", missing: [])
        }
    }

    /// `{"<checksum>": {"name", "debug_id", "chunks": [sha1]}, ...}`, answered per checksum with
    /// the state, the missing chunks and, once stored, the debug file.
    func assembleDebugFiles(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let files: [(checksum: String, name: String, debugID: String?, chunks: [String])] = try await APIBody.read(
            request, limit: Self.maxAssembleBodyBytes
        ) { json in
            var files: [(String, String, String?, [String])] = []
            json.forEachMember(0) { key, value in
                guard let checksum = json.string(key)?.lowercased() else { return }
                files.append(
                    (
                        checksum, json.string(json.member(value, "name")) ?? "",
                        json.string(json.member(value, "debug_id")).map { $0.lowercased() },
                        json.member(value, "chunks").map { json.elements($0).compactMap { json.string($0)?.lowercased() } } ?? []
                    ))
            }
            return files
        }
        var writer = JSONWriter()
        writer.beginObject()
        for file in files {
            writer.key(file.checksum)
            guard Self.isSHA1(file.checksum), file.chunks.allSatisfy(Self.isSHA1) else {
                Self.fileState("error", missing: [], detail: "checksum and chunks must be SHA-1 hashes.", into: &writer)
                continue
            }
            if let existing = try await admin({ try await $0.debugFile(projectID: project.id, checksum: file.checksum) }) {
                Self.fileState("ok", missing: [], dif: existing, into: &writer)
                continue
            }
            switch try await assemble(checksum: file.checksum, chunks: file.chunks) {
            case .missing(let missing): Self.fileState("not_found", missing: missing, into: &writer)
            case .failed(let detail): Self.fileState("error", missing: [], detail: detail, into: &writer)
            case .assembled(let contents):
                guard let debugID = file.debugID, !debugID.isEmpty else {
                    Self.fileState("error", missing: [], detail: "The debug file has no debug id.", into: &writer)
                    continue
                }
                let header = DebugFileHeader(contents)
                let record = DebugFile(
                    projectID: project.id, checksum: file.checksum, debugID: debugID, codeID: header.codeID,
                    name: String(file.name.prefix(400)), arch: header.arch, objectType: header.objectType, size: Int64(contents.count),
                    created: ClockTime.nowMilliseconds)
                let stored = try await admin({ try await $0.storeDebugFile(record, contents: contents) })
                Self.fileState("ok", missing: [], dif: stored, into: &writer)
            }
        }
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    /// `GET /projects/{org}/{project}/files/dsyms/`: the project's debug files.
    func listDebugFiles(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for file in try await admin({ try await $0.debugFiles(projectID: project.id) }) { Self.debugFile(file, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `GET /projects/{org}/{project}/files/artifact-bundles/`: the project's bundles.
    func listArtifactBundles(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for bundle in try await admin({ try await $0.artifactBundles(projectID: project.id) }) {
            writer.beginObject()
            writer.field("bundleId", bundle.bundleUUID)
            writer.field("release", bundle.release)
            writer.field("dist", bundle.dist)
            writer.field("fileCount", bundle.fileCount)
            writer.field("date", Timestamp.format(milliseconds: bundle.created))
            writer.field("dateModified", Timestamp.format(milliseconds: bundle.created))
            writer.endObject()
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `GET /projects/{org}/{project}/artifact-bundles/{bundleId}/files/`: a bundle's files.
    func artifactBundleFiles(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let uuid = context.parameters.get("bundle")?.lowercased() ?? ""
        guard let bundle = try await admin({ try await $0.artifactBundles(projectID: project.id) }).first(where: { $0.bundleUUID == uuid })
        else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        let files = try await admin({ try await $0.artifactFiles(projectID: project.id, bundleID: bundle.id) })
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("bundleId", bundle.bundleUUID)
        writer.field("release", bundle.release)
        writer.field("dist", bundle.dist)
        writer.key("files")
        writer.beginArray()
        for file in files {
            writer.beginObject()
            writer.field("filePath", file.url)
            writer.field("fileType", Self.sourceFileType(file.type))
            writer.field("debugId", file.debugID)
            writer.field("sourcemap", file.headers["sourcemap"])
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    /// Sentry's `SourceFileType` numbers.
    private static func sourceFileType(_ type: ArtifactFileType) -> Int {
        switch type {
        case .source: 1
        case .minifiedSource: 2
        case .sourceMap: 3
        case .indexedRAMBundle: 4
        }
    }

    private enum Assembly {
        case missing([String])
        case failed(String)
        case assembled([UInt8])
    }

    /// The file from its chunks, checked against its checksum.
    private func assemble(checksum: String, chunks: [String]) async throws -> Assembly {
        guard !chunks.isEmpty else { return .failed("The file has no chunks.") }
        let missing = try await admin({ try await $0.missingChunks(chunks) })
        if !missing.isEmpty { return .missing(Array(Set(missing)).sorted()) }
        guard let parts = try await admin({ try await $0.chunks(chunks) }) else { return .missing(chunks) }
        guard parts.reduce(0, { $0 + $1.count }) <= Self.maxUploadFileBytes else {
            return .failed("The file is larger than \(Self.maxUploadFileBytes) bytes.")
        }
        let contents = Array(parts.joined())
        guard ArtifactBundleReader.sha1Hex(contents) == checksum else { return .failed("The assembled file does not match its checksum.") }
        return .assembled(contents)
    }

    private static func assembleAnswer(state: String, missing: [String], detail: String? = nil) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("state", state)
        writer.key("missingChunks")
        writer.beginArray()
        for checksum in missing { writer.value(checksum) }
        writer.endArray()
        writer.field("detail", detail)
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    private static func fileState(
        _ state: String, missing: [String], detail: String? = nil, dif: DebugFile? = nil, into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.field("state", state)
        writer.key("missingChunks")
        writer.beginArray()
        for checksum in missing { writer.value(checksum) }
        writer.endArray()
        writer.field("detail", detail)
        writer.key("dif")
        if let dif { debugFile(dif, into: &writer) } else { writer.null() }
        writer.endObject()
    }

    /// Sentry's debug file shape (`DebugFileSerializer`).
    private static func debugFile(_ file: DebugFile, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(file.id))
        writer.field("uuid", file.debugID)
        writer.field("debugId", file.debugID)
        writer.field("codeId", file.codeID)
        writer.field("cpuName", file.arch)
        writer.field("objectName", file.name)
        writer.field("symbolType", file.objectType)
        writer.field("size", file.size)
        writer.field("sha1", file.checksum)
        writer.field("dateCreated", Timestamp.format(milliseconds: file.created))
        writer.key("data")
        writer.beginObject()
        writer.key("features")
        writer.beginArray()
        writer.endArray()
        writer.endObject()
        writer.endObject()
    }

    /// The projects a request names by slug or id, all of the organisation's; 400 otherwise.
    static func projects(named names: [String], in projects: [Project]) throws -> [Project] {
        guard !names.isEmpty else { throw HTTPError(.badRequest, message: "projects: This field is required.") }
        return try names.map { name in
            guard let project = projects.first(where: { $0.slug == name || String($0.id) == name }) else {
                throw HTTPError(.badRequest, message: "projects: Invalid project ids or slugs")
            }
            return project
        }
    }

    static func isSHA1(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
