import PitIngest
import PitModel

extension JSONView {
    /// The elements of an array, or none when `index` is nil or not an array. (Passing a default
    /// index such as the root instead would walk the root when it is itself an array.)
    func elementsIfArray(_ index: Int?) -> [Int] {
        guard let index, kind(index) == .array else { return [] }
        return elements(index)
    }
}
