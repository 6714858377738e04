// Debian's OpenSSL (libssl-dev) for TLS on the binary port. Several of its
// settings are function-like macros, which Swift cannot call: these inline
// functions stand in for them.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

// A server context: TLS 1.2 and 1.3 only, no renegotiation, no compression,
// writes that may complete partially and resume from a moved buffer (the
// connection's output buffer grows while a write waits), no session tickets
// kept across reloads.
static inline SSL_CTX *jobwire_tls_server_context(void) {
    SSL_CTX *context = SSL_CTX_new(TLS_server_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                              | SSL_MODE_RELEASE_BUFFERS);
    return context;
}

// A client context: TLS 1.2 and 1.3, the peer's certificate verified.
static inline SSL_CTX *jobwire_tls_client_context(void) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    return context;
}

// Clients must present a certificate that one of the CAs in `path` issued.
static inline int jobwire_tls_require_client_certificates(SSL_CTX *context, const char *path) {
    if (SSL_CTX_load_verify_locations(context, path, NULL) != 1) return 0;
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path);
    if (names != NULL) SSL_CTX_set_client_CA_list(context, names);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return 1;
}

// The name the client asks for (SNI) and checks the server's certificate against.
static inline int jobwire_tls_set_host(SSL *ssl, const char *host) {
    if (SSL_set_tlsext_host_name(ssl, host) != 1) return 0;
    return SSL_set1_host(ssl, host);
}

// The last queued OpenSSL error in words ("" when none), emptying the queue.
static inline void jobwire_tls_error(char *buffer, size_t size) {
    unsigned long code = ERR_get_error();
    unsigned long next;
    while ((next = ERR_get_error()) != 0) code = next;
    if (code == 0) {
        if (size > 0) buffer[0] = 0;
        return;
    }
    ERR_error_string_n(code, buffer, size);
}
