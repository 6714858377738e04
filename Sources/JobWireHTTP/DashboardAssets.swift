import Foundation
import NIOCore
import NIOHTTP1

/// The dashboard's files (web/dashboard and clients/js/jobwire.js), compiled
/// in by `scripts/generate-dashboard` (Sources/JobWireHTTP/DashboardAssets/, one file per asset;
/// `make check-dashboard` fails on drift): `GET /` is the page, `GET /ui/NAME`
/// its scripts, style sheet and icon. They carry no data and need no key;
/// everything the page shows comes from `/v1` with the user's key.
enum DashboardAssets {
    struct Asset: Sendable {
        let name: String
        let contentType: String
        /// Quoted: the first 16 hex digits of the file's SHA-256.
        let entityTag: String
        let body: ByteBuffer

        init(name: String, contentType: String, entityTag: String, text: String) {
            self.name = name
            self.contentType = contentType
            self.entityTag = entityTag
            self.body = ByteBuffer(string: text + "\n")
        }
    }

    static let byName: [String: Asset] = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    /// Scripts, styles, connections and images from this origin only; no
    /// inline script, no framing. The page builds its DOM with `textContent`,
    /// never markup from job values, and this policy backs that up.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The response for an asset: revalidated on every load (an upgraded
    /// jobwired serves new files at once), 304 when `If-None-Match` names it.
    static func response(_ asset: Asset, _ request: HTTPRequest) -> HTTPResponse {
        var response: HTTPResponse
        if let noneMatch = request.headers.first(name: "if-none-match"),
           noneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.entityTag }) {
            response = HTTPResponse(status: .notModified)
        } else {
            response = HTTPResponse(status: .ok, body: asset.body)
            response.headers.add(name: "content-type", value: asset.contentType)
        }
        response.headers.add(name: "etag", value: asset.entityTag)
        response.headers.add(name: "cache-control", value: "no-cache")
        response.headers.add(name: "x-content-type-options", value: "nosniff")
        response.headers.add(name: "referrer-policy", value: "no-referrer")
        if asset.name == "index.html" {
            response.headers.add(name: "content-security-policy", value: contentSecurityPolicy)
            response.headers.add(name: "x-frame-options", value: "DENY")
        }
        return response
    }
}
