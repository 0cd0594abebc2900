// TEMPORARY until the normalizer lands
package enum GroupingValueNormalizer {
    package static func normalize(_ value: String) -> String { value }
}
