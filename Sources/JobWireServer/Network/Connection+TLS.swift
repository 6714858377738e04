import JobWireProtocol
import JobWireTLS

/// Reading and writing through the connection's ``TLSStream``: the same turns as a plaintext socket, with the two
/// waits TLS adds (a read that needs the socket writable, a write that needs it readable).
extension Connection {
    enum TLSReadStep {
        /// Bytes were handled; the socket may hold more.
        case more
        /// Nothing more to read in this turn (or handling stopped at the output bound).
        case done
        /// The connection closed.
        case closed
    }

    /// One TLS read into `buffer`, handed to the frame decoder.
    func receiveTLS(_ tls: TLSStream, into buffer: UnsafeMutableRawBufferPointer) -> TLSReadStep {
        switch tls.read(into: buffer) {
        case .bytes(let count):
            account?.received(bytes: count)
            feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            // As for plaintext: a read that did not fill the buffer took what there was, unless OpenSSL holds more
            // (the socket announces anything newer itself).
            return unhandled.isEmpty && (count == buffer.count || tls.hasPendingInput) ? .more : .done
        case .wantRead:
            return .done
        case .wantWrite:
            tlsReadWaitsForWrite = true
            updateInterest()
            return .done
        case .closed:
            close()
            return .closed
        case .failed(let why):
            // A client refused in the handshake (no certificate, another CA's, an expired one, not TLS at all).
            logger.info("TLS \(tls.isEstablished ? "read" : "handshake") failed: \(why)")
            close()
            return .closed
        }
    }

    /// Writes pending output through TLS; false when writing must stop for now (waiting, or closed).
    func sendTLS(_ tls: TLSStream) -> Bool {
        let outcome = output.withUnsafeBytes { bytes in tls.write(UnsafeRawBufferPointer(rebasing: bytes[outputSent...])) }
        switch outcome {
        case .bytes(let sent):
            outputSent += sent
            account?.sent(bytes: sent)
            return true
        case .wantWrite:
            writeArmed = true
            updateInterest()
            return false
        case .wantRead:
            tlsWriteWaitsForRead = true
            updateInterest()
            return false
        case .closed:
            close()
            return false
        case .failed(let why):
            logger.info("TLS write failed: \(why)")
            close()
            return false
        }
    }
}
