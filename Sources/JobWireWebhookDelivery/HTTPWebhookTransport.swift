import AsyncHTTPClient
import Dispatch
import JobWireSync
import JobWireWebhooks
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// jobwired's webhook transport: AsyncHTTPClient on one event loop of its
/// own, no redirects followed, the answer's body ignored, and the address
/// policy applied to every address the receiver's name resolves to, right
/// before each request (DNS rebinding gains nothing). The request then goes
/// to the checked address, never to a second lookup: each receiver host has
/// a client whose DNS override pins it to that address, with the host name
/// kept for TLS's server name and certificate check.
public final class HTTPWebhookTransport: WebhookTransport {
    private let policy: WebhookAddressPolicy
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// getaddrinfo blocks: lookups run here, never on an event loop or Swift's cooperative pool.
    private let resolver = DispatchQueue(label: "jobwire.webhooks.resolve", attributes: .concurrent)
    /// One client per receiver host, pinned to the address last checked.
    private let clients = Locked<[String: (address: String, client: HTTPClient)]>([:])

    public init(policy: WebhookAddressPolicy) {
        self.policy = policy
    }

    public func post(url: String, headers: [(String, String)], body: [UInt8], timeoutMs: Int64,
                     completion: @escaping @Sendable (WebhookTransportResult) -> Void) {
        let startedNs = DispatchTime.now().uptimeNanoseconds
        let elapsed: @Sendable () -> Int64 = { Int64((DispatchTime.now().uptimeNanoseconds - startedNs) / 1_000) }
        let target: WebhookURL
        do throws(WebhookTargetError) {
            target = try WebhookURL(url, policy: policy)
        } catch {
            completion(WebhookTransportResult(httpStatus: nil, error: error.description, latencyMicros: elapsed()))
            return
        }
        // An address literal needs no lookup: it is checked and sent from here, without a hop to the resolver.
        guard WebhookAddressPolicy.kind(of: target.host) == nil else {
            send(url, to: target, headers: headers, body: body, timeoutMs: timeoutMs, elapsed: elapsed, completion: completion)
            return
        }
        resolver.async { [self] in
            send(url, to: target, headers: headers, body: body, timeoutMs: timeoutMs, elapsed: elapsed, completion: completion)
        }
    }

    /// Checks the target's addresses (resolving a name: only on the resolver queue) and sends to the checked one.
    private func send(_ url: String, to target: WebhookURL, headers: [(String, String)], body: [UInt8], timeoutMs: Int64,
                      elapsed: @escaping @Sendable () -> Int64, completion: @escaping @Sendable (WebhookTransportResult) -> Void) {
        let address: String
        do throws(WebhookTargetError) {
            address = try checkedAddress(of: target)
        } catch {
            completion(WebhookTransportResult(httpStatus: nil, error: error.description, latencyMicros: elapsed()))
            return
        }
        let client = client(for: target.host, pinnedTo: address)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: url, method: .POST, headers: HTTPHeaders(headers), body: .bytes(body))
        } catch {
            completion(WebhookTransportResult(httpStatus: nil, error: "INVALID_WEBHOOK_URL: \(error)", latencyMicros: elapsed()))
            return
        }
        client.execute(request: request, delegate: StatusOnly(), deadline: .now() + .milliseconds(timeoutMs))
            .futureResult.whenComplete { result in
                switch result {
                case .success(let status):
                    completion(WebhookTransportResult(httpStatus: status, latencyMicros: elapsed()))
                case .failure(let error):
                    completion(WebhookTransportResult(httpStatus: nil, error: Self.describe(error), latencyMicros: elapsed()))
                }
            }
    }

    /// Stops every client and the event loop (at exit).
    public func shutdown() {
        let all = clients.withLock { clients in
            defer { clients = [:] }
            return clients.values.map(\.client)
        }
        for client in all { try? client.syncShutdown() }
        try? group.syncShutdownGracefully()
    }

    /// Resolves the host (a literal stands for itself) and checks every
    /// address: one the policy refuses refuses the request.
    private func checkedAddress(of target: WebhookURL) throws(WebhookTargetError) -> String {
        if WebhookAddressPolicy.kind(of: target.host) != nil {
            try policy.check(address: target.host)
            return target.host
        }
        let addresses = Self.resolve(target.host, port: target.port)
        guard let first = addresses.first else {
            throw WebhookTargetError(.invalidURL, "\(target.host) does not resolve")
        }
        for address in addresses { try policy.check(address: address) }
        return first
    }

    private func client(for host: String, pinnedTo address: String) -> HTTPClient {
        let (client, retired) = clients.withLock { clients -> (HTTPClient, HTTPClient?) in
            if let existing = clients[host], existing.address == address { return (existing.client, nil) }
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                         timeout: .init(connect: .seconds(5), read: .seconds(10)))
            if WebhookAddressPolicy.kind(of: host) == nil { configuration.dnsOverride = [host: address] }
            configuration.decompression = .disabled
            // A refused or failed connection fails the attempt at once: the message's own retry schedule decides when
            // to try again (AsyncHTTPClient would otherwise keep reconnecting until the connect timeout, holding one
            // of the endpoint's slots for seconds on a receiver that is down).
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
            let old = clients[host]?.client
            clients[host] = (address, client)
            return (client, old)
        }
        if let retired { retired.shutdown { _ in } }
        return client
    }

    static func resolve(_ host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let current = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if let address = current.pointee.ai_addr,
               getnameinfo(address, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            node = current.pointee.ai_next
        }
        return addresses
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "TIMEOUT: no answer in time"
            default: return "HTTP_CLIENT: \(error)"
            }
        }
        return "CONNECTION: \(error)"
    }
}

/// Reads a response's status and throws its body away: a receiver's answer
/// is its status, and a large body must cost nothing.
private final class StatusOnly: HTTPClientResponseDelegate {
    typealias Response = Int
    private let status = Locked(0)

    func didReceiveHead(task: HTTPClient.Task<Int>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        status.withLock { $0 = Int(head.status.code) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Int>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Int>) throws -> Int {
        status.withLock { $0 }
    }
}
