import Dispatch
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

#if canImport(Glibc)
import Glibc
#endif

// The gRPC peer of JobWire's benchmark (bench/peers/README.md):
//
//   jobwire-grpc-peer [--port 0] [--jobs 10000] [--ids-file FILE] [--nio-executor]
//
// Serves jobwire.v1.JobService with grpc-swift 2 over plaintext HTTP/2 on
// 127.0.0.1, from memory, after seeding --jobs copies of the job JobWire's
// benchmark seeds. Prints `grpc-peer listening on 127.0.0.1:PORT` once it
// accepts connections; SIGTERM or SIGINT shut it down gracefully.
//
// --nio-executor makes NIO's event loops Swift Concurrency's global executor
// (NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor),
// which saves the thread hops between the event loops and the concurrency pool
// on every call. Off by default: the default is how grpc-swift 2 runs out of the box.

struct Options {
    var port = 0
    var jobs = 10_000
    var idsFile: String?
    var nioExecutor = false

    static func parse(_ arguments: [String]) -> Options {
        var options = Options()
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            if flag == "--nio-executor" {
                options.nioExecutor = true
                continue
            }
            let value = iterator.next()
            switch (flag, value) {
            case ("--port", let value?) where Int(value).map({ (0...65_535).contains($0) }) == true: options.port = Int(value)!
            case ("--jobs", let value?) where Int(value).map({ $0 >= 0 }) == true: options.jobs = Int(value)!
            case ("--ids-file", let value?): options.idsFile = value
            default: usage()
            }
        }
        return options
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: jobwire-grpc-peer [--port 0] [--jobs 10000] [--ids-file FILE] [--nio-executor]\n".utf8))
        exit(2)
    }
}

enum JobWireGRPCPeer {
    static func run(_ options: Options) async throws {
        let store = JobStore()
        let ids = store.seed(count: options.jobs)
        if let idsFile = options.idsFile {
            try (ids.joined(separator: "\n") + (ids.isEmpty ? "" : "\n")).write(toFile: idsFile, atomically: true, encoding: .utf8)
        }

        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: "127.0.0.1", port: options.port),
            transportSecurity: .plaintext
        )
        let server = GRPCServer(transport: transport, services: [JobServicePeer(store: store)])

        // SIGTERM / SIGINT: stop accepting calls, end the watches (they would
        // otherwise keep the server open), let calls in progress finish.
        // (@Sendable and nonisolated: Dispatch runs it on a queue of its own.)
        let shutdown: @Sendable () -> Void = {
            store.closeWatches()
            server.beginGracefulShutdown()
        }
        let signalSources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: shutdown)
            source.resume()
            return source
        }

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let address = try await transport.listeningAddress
            let port = address.ipv4?.port ?? options.port
            FileHandle.standardOutput.write(Data("grpc-peer listening on 127.0.0.1:\(port)\n".utf8))
        }
        for source in signalSources { source.cancel() }
    }
}
