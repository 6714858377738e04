import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JobWireHTTP
import JobWireServer
import JobWireTestSupport
import Logging
import Testing

/// jobwired's two listeners in this process on ephemeral loopback ports, and
/// a URLSession (a real HTTP client, without a cache) to call the HTTP one.
final class HTTPTestServer: Sendable {
    let server: JobWireServer
    let http: HTTPFrontEnd
    let port: Int
    let session: URLSession

    init(_ configure: (inout HTTPConfiguration) -> Void = { _ in }) throws {
        expectOwnThread()
        var configuration = ServerConfiguration()
        configuration.port = 0
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        server = try JobWireServer(configuration: configuration, store: InMemoryJobStore(), logger: logger)
        _ = try server.start()
        var httpConfiguration = HTTPConfiguration()
        httpConfiguration.port = 0
        httpConfiguration.threads = 1
        configure(&httpConfiguration)
        http = HTTPFrontEnd(server: server, configuration: httpConfiguration, logger: logger)
        port = try http.start()
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.urlCache = nil
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: sessionConfiguration)
    }

    struct Response {
        let status: Int
        let headers: [String: String]
        let body: Data

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }

        /// The reason of an error body.
        var reason: String? {
            (json["error"] as? [String: Any])?["reason"] as? String
        }
    }

    func call(_ method: String, _ path: String, json: String? = nil, headers: [String: String] = [:]) async throws -> Response {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return Response(status: http.statusCode, headers: headers, body: data)
    }

    /// Drains the HTTP listener, then the binary port; returns when both stopped.
    func stop() {
        expectOwnThread()
        session.invalidateAndCancel()
        let done = DispatchSemaphore(value: 0)
        let server = self.server
        http.shutdown(timeoutMs: 2_000) { server.shutdown { done.signal() } }
        done.wait()
    }
}
