import Dispatch
import Foundation
import JobWireSync
import JobWireTestSupport
import JobWireWebhookDelivery
import JobWireWebhooks
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A receiver on loopback that answers every request with `status` and keeps
/// what it read: enough HTTP for a test, on a thread of its own.
final class LoopbackReceiver: Sendable {
    let port: Int
    private let socket: Int32
    let received: Locked<[String]>

    init(status: Int, headers: String = "") throws {
        let listening = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) } }
        guard bound == 0, listen(listening, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) } }
        socket = listening
        port = Int(UInt16(bigEndian: address.sin_port))
        received = Locked([])
        Thread.detachNewThread {
            while true {
                let client = accept(self.socket, nil, nil)
                guard client >= 0 else { return }
                var request: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                // Until the head and the body its content-length announces are in.
                while true {
                    let count = read(client, &buffer, buffer.count)
                    if count <= 0 { break }
                    request += buffer[0..<count]
                    let text = String(decoding: request, as: UTF8.self)
                    if let end = text.range(of: "\r\n\r\n") {
                        let head = text[..<end.lowerBound].lowercased()
                        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                        if text.utf8.count - text[..<end.upperBound].utf8.count >= length { break }
                    }
                }
                self.received.withLock { $0.append(String(decoding: request, as: UTF8.self)) }
                let answer = "HTTP/1.1 \(status) Answer\r\ncontent-length: 0\r\nconnection: close\r\n\(headers)\r\n"
                _ = answer.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
        }
    }

    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }
}

@Suite("Sending webhooks over HTTP", .ownThread)
struct HTTPWebhookTransportTests {
    static func post(_ transport: HTTPWebhookTransport, _ url: String) -> WebhookTransportResult {
        let result = Locked<WebhookTransportResult?>(nil)
        let done = DispatchSemaphore(value: 0)
        transport.post(url: url, headers: [("content-type", "application/json"), ("webhook-id", "msg_1")],
                       body: Array(#"{"type":"job.created"}"#.utf8), timeoutMs: 5_000) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? WebhookTransportResult(httpStatus: nil, error: "no answer", latencyMicros: 0)
    }

    @Test("a POST reaches a receiver with its headers and body, and its status comes back; redirects are not followed")
    func postsAndReadsTheStatus() throws {
        let receiver = try LoopbackReceiver(status: 204)
        let redirecting = try LoopbackReceiver(status: 307, headers: "location: http://127.0.0.1:\(receiver.port)/\r\n")
        defer { receiver.stop(); redirecting.stop() }
        let transport = HTTPWebhookTransport(policy: WebhookAddressPolicy(allowPrivate: true))
        defer { transport.shutdown() }
        let result = Self.post(transport, "http://127.0.0.1:\(receiver.port)/hook")
        #expect(result.httpStatus == 204 && result.error.isEmpty, "\(result)")
        let request = try #require(receiver.received.withLock { $0.first })
        #expect(request.hasPrefix("POST /hook HTTP/1.1\r\n"))
        #expect(request.lowercased().contains("webhook-id: msg_1"))
        #expect(request.hasSuffix(#"{"type":"job.created"}"#))
        let redirected = Self.post(transport, "http://127.0.0.1:\(redirecting.port)/hook")
        #expect(redirected.httpStatus == 307, "a redirect is a failure, not followed: \(redirected)")
        #expect(receiver.received.withLock { $0.count } == 1)
    }

    @Test("private addresses are refused without the flag, before any connection; metadata always")
    func refusesPrivateAddresses() throws {
        let receiver = try LoopbackReceiver(status: 200)
        defer { receiver.stop() }
        let strict = HTTPWebhookTransport(policy: WebhookAddressPolicy())
        defer { strict.shutdown() }
        for url in ["http://127.0.0.1:\(receiver.port)/hook", "http://localhost:\(receiver.port)/hook"] {
            let result = Self.post(strict, url)
            #expect(result.httpStatus == nil && result.error.hasPrefix("WEBHOOK_ADDRESS_NOT_ALLOWED"), "\(url): \(result)")
        }
        let relaxed = HTTPWebhookTransport(policy: WebhookAddressPolicy(allowPrivate: true))
        defer { relaxed.shutdown() }
        let metadata = Self.post(relaxed, "http://169.254.169.254/latest/meta-data")
        #expect(metadata.error.hasPrefix("WEBHOOK_ADDRESS_NOT_ALLOWED"), "\(metadata)")
        #expect(receiver.received.withLock { $0.isEmpty }, "nothing reached the receiver")
    }

    @Test("a refused connection is an error with no status")
    func refusedConnection() throws {
        // A port bound but not listening refuses connections, and stays ours (a freed port could be taken by another
        // test's listener meanwhile).
        let bound = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(bound) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(bound, $0, length) } }
        try #require(status == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(bound, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let transport = HTTPWebhookTransport(policy: WebhookAddressPolicy(allowPrivate: true))
        defer { transport.shutdown() }
        let result = Self.post(transport, "http://127.0.0.1:\(port)/hook")
        #expect(result.httpStatus == nil && !result.error.isEmpty, "\(result)")
    }
}
