/// A project: what events, DSN keys and issues belong to. Its rules are in `Project+Rules`.
package struct Project: Sendable, Equatable {
    package var id: Int64
    package var organizationSlug: String
    package var slug: String
    package var name: String
    package var platform: String?
    package var createdAt: Int64

    package init(id: Int64, organizationSlug: String, slug: String, name: String, platform: String? = nil, createdAt: Int64) {
        self.id = id
        self.organizationSlug = organizationSlug
        self.slug = slug
        self.name = name
        self.platform = platform
        self.createdAt = createdAt
    }
}
