/// SQL `LIKE` patterns, written the same way by every back end (both use `ESCAPE '\'`).
package enum LikePattern {
    /// `text` with the `LIKE` wildcards and the escape character escaped, to match literally.
    package static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
