import HTTPTypes
import Hummingbird
import PitStorage
import Testing

@testable import PitdServer

/// `HTTPError+Admin`: the one mapping of admin-domain errors to HTTP statuses.
@Suite struct HTTPErrorAdminTests {
    @Test(
        arguments: [
            (AdminError.Code.invalid, HTTPResponse.Status.badRequest),
            (.conflict, .badRequest),
            (.notFound, .notFound),
            (.unavailable, .serviceUnavailable),
            (.failed, .internalServerError),
        ])
    func eachCodeHasOneStatus(code: AdminError.Code, status: HTTPResponse.Status) {
        #expect(HTTPError.status(for: code) == status)
    }

    @Test func theMessageIsTheBodyAndUnavailableAsksForARetry() {
        let refused = HTTPError(AdminError.invalid("a project name is 1-200 characters"))
        #expect(refused.status == .badRequest)
        #expect(refused.body == "a project name is 1-200 characters")
        #expect(refused.headers[HTTPField.Name("Retry-After")!] == nil)
        let busy = HTTPError(AdminError(.unavailable, "The database is not answering; try again shortly."))
        #expect(busy.headers[HTTPField.Name("Retry-After")!] == "1")
    }
}
