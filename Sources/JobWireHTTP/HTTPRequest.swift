import Foundation
import NIOCore
import NIOHTTP1

/// One request as the routes see it: the head NIO decoded, the path split
/// into its segments, the query into its parameters, and the whole body.
struct HTTPRequest {
    let head: HTTPRequestHead
    /// The path's segments, percent-decoded (`/v1/jobs/ID` is `["v1", "jobs", "ID"]`).
    let segments: [String]
    /// Query parameters in order; a name may repeat (`label=a:1&label=b:2`).
    let query: [(name: String, value: String)]
    let body: ByteBuffer?
    /// When the request arrived whole, for Stats.
    let startedAtNs: UInt64
    /// The connection's loop: event streams take their deliveries there.
    let eventLoop: any EventLoop
    /// The client's TLS certificate's SHA-256 fingerprint (mutual TLS), when it presented one.
    let certificateFingerprint: [UInt8]?

    var method: NIOHTTP1.HTTPMethod { head.method }
    var headers: HTTPHeaders { head.headers }

    init?(head: HTTPRequestHead, body: ByteBuffer?, startedAtNs: UInt64, eventLoop: any EventLoop,
          certificateFingerprint: [UInt8]? = nil) {
        self.head = head
        self.certificateFingerprint = certificateFingerprint
        self.eventLoop = eventLoop
        self.body = body
        self.startedAtNs = startedAtNs
        let uri = head.uri
        let pathEnd = uri.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? uri.endIndex
        let path = uri[..<pathEnd]
        guard path.hasPrefix("/") else { return nil }
        var segments: [String] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = Self.percentDecoded(segment, plusIsSpace: false) else { return nil }
            segments.append(decoded)
        }
        self.segments = segments
        var query: [(name: String, value: String)] = []
        if pathEnd < uri.endIndex, uri[pathEnd] == "?" {
            let queryText = uri[uri.index(after: pathEnd)...].prefix { $0 != "#" }
            for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = Self.percentDecoded(parts[0], plusIsSpace: true),
                      let value = parts.count > 1 ? Self.percentDecoded(parts[1], plusIsSpace: true) : "" else { return nil }
                query.append((name, value))
            }
        }
        self.query = query
    }

    /// `text` with its %XX escapes decoded (and `+` as a space in queries, as forms and
    /// `URLSearchParams` write it); nil for a malformed escape or bytes that are not UTF-8.
    /// Most paths have no escape at all: they are taken as they are (Foundation's decoder
    /// was a tenth of a GET's CPU).
    private static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        let replaced = plusIsSpace ? String(text).replacingOccurrences(of: "+", with: " ") : String(text)
        return replaced.removingPercentEncoding
    }

    /// The last value of a query parameter.
    func parameter(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }

    /// Every value of a query parameter, commas splitting values too (`status=a,b`).
    func parameters(_ name: String, splittingCommas: Bool) -> [String] {
        query.filter { $0.name == name }.flatMap { entry in
            splittingCommas ? entry.value.split(separator: ",").map(String.init) : [entry.value]
        }
    }

    /// The body's bytes (empty when there is none).
    var bodyBytes: [UInt8] {
        guard var body else { return [] }
        return body.readBytes(length: body.readableBytes) ?? []
    }

    /// Whether the request's media type (parameters ignored) is `type`.
    func contentTypeIs(_ type: String) -> Bool {
        guard let value = headers.first(name: "content-type") else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return mediaType.lowercased() == type
    }

    /// Whether the Accept header prefers `type` over JSON (a plain check: it names it).
    func accepts(_ type: String) -> Bool {
        headers[canonicalForm: "accept"].contains { $0.lowercased().hasPrefix(type) }
    }
}
