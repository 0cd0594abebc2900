import PitModel

/// What a project's name, slug and id may be, for every back end, the API, the web UI and the CLI.
extension Project {
    package static let nameLengths = 1...200

    /// A name as stored: trimmed, 1-200 characters.
    package static func validatedName(_ name: String) throws(AdminError) -> String {
        let name = name.trimmingSpaces
        guard nameLengths.contains(name.count) else { throw .invalid("a project name is 1-200 characters") }
        return name
    }

    /// A caller's id for a new project (e.g. the id it had in Sentry, so DSNs keep working).
    package static func validateNewID(_ id: Int64) throws(AdminError) {
        guard id > 0 else { throw .invalid("project id must be positive") }
    }

    package static func idTaken(_ id: Int64) -> AdminError { .conflict("project \(id) already exists") }
    package static func missing(_ id: Int64) -> AdminError { .notFound("project \(id) does not exist") }

    /// Sentry-style slug: lowercase letters, digits and dashes.
    package static func slugify(_ name: String) -> String {
        var slug = ""
        var lastWasDash = true
        for scalar in name.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "_" {
                slug.unicodeScalars.append(scalar)
                lastWasDash = false
            } else if !lastWasDash {
                slug += "-"
                lastWasDash = true
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "project" : String(slug.prefix(50))
    }

    /// Slugs are unique per organisation: the name's slug, or the first of `slug-2`, `slug-3`…
    /// that is not `taken`.
    package static func uniqueSlug(for name: String, taken: Set<String>) -> String {
        let base = slugify(name)
        var slug = base
        var suffix = 2
        while taken.contains(slug) {
            slug = "\(base)-\(suffix)"
            suffix += 1
        }
        return slug
    }
}
