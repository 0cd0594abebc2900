package import NIOCore
package import PostgresNIO

/// A one-dimensional array parameter whose elements may be NULL. postgres-nio encodes `[T]` but
/// not `[T?]`; the batch writer binds whole columns as arrays (`INSERT … SELECT * FROM unnest(…)`)
/// and some columns (release, user, dictionary id) are nullable.
package struct PostgresNullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable & Sendable>:
    PostgresNonThrowingEncodable, Sendable
{
    package var elements: [Element?]

    package init(_ elements: [Element?]) { self.elements = elements }

    package static var psqlType: PostgresDataType { Element.psqlArrayType }
    package static var psqlFormat: PostgresFormat { .binary }

    package func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // The array wire format: dimensions, has-nulls flag, element type, then per dimension its
        // length and lower bound, then each element length-prefixed (-1 for NULL).
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(elements.contains(where: { $0 == nil }) ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(1, as: Int32.self)
        for element in elements {
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthAt = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - lengthAt - 4), at: lengthAt)
        }
    }
}
