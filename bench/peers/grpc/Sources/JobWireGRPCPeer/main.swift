import NIOCore
import NIOPosix

// Synchronous start, so that --nio-executor can install its hook from the main
// thread before any task runs; then the server (Peer.swift).
let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
if options.nioExecutor && !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
    fatalError("--nio-executor: could not install NIO's event loops as the global executor")
}
try await JobWireGRPCPeer.run(options)
