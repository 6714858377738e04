// Debian's OpenSSL (libssl-dev) for TLS on the binary port. Several of its
// settings are function-like macros, which Swift cannot call: these inline
// functions stand in for them.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

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
    // One recv takes whatever arrived (several records at once), not a record's header and then its body.
    SSL_CTX_set_read_ahead(context, 1);
    return context;
}

// A client context: TLS 1.2 and 1.3, the peer's certificate verified.
static inline SSL_CTX *jobwire_tls_client_context(void) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) return NULL;
    SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(context, 1);
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

// What the client checks the server's certificate against: an IP address
// (against its IP SANs), or a name (sent as SNI, checked against its DNS SANs).
static inline int jobwire_tls_set_host(SSL *ssl, const char *host) {
    unsigned char address[16];
    if (inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1) {
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
    }
    if (SSL_set_tlsext_host_name(ssl, host) != 1) return 0;
    return SSL_set1_host(ssl, host);
}

// The SHA-256 fingerprint of the peer's certificate into `out` (32 bytes): 1, or 0 when it presented none.
static inline int jobwire_tls_peer_fingerprint(SSL *ssl, unsigned char *out) {
    X509 *certificate = SSL_get1_peer_certificate(ssl);
    if (certificate == NULL) return 0;
    unsigned int length = 0;
    int made = X509_digest(certificate, EVP_sha256(), out, &length);
    X509_free(certificate);
    return made == 1 && length == 32;
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

// A BIO on a non-blocking socket that writes with MSG_NOSIGNAL: OpenSSL's own
// socket BIO uses write(), which raises SIGPIPE when the peer has gone, and a
// library must not kill the process it is embedded in (nor change its signals).
static int jobwire_bio_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t sent = send(fd, data, (size_t)length, MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)sent;
}

static int jobwire_bio_read(BIO *bio, char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t received = recv(fd, data, (size_t)length, 0);
    if (received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)received;
}

static long jobwire_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

// The BIO method, made once (a lost race frees its copy).
static inline BIO_METHOD *jobwire_bio_method(void) {
    static BIO_METHOD *shared = NULL;
    BIO_METHOD *current = __atomic_load_n(&shared, __ATOMIC_ACQUIRE);
    if (current != NULL) return current;
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "jobwire socket");
    if (method == NULL) return NULL;
    BIO_meth_set_write(method, jobwire_bio_write);
    BIO_meth_set_read(method, jobwire_bio_read);
    BIO_meth_set_ctrl(method, jobwire_bio_ctrl);
    BIO_METHOD *expected = NULL;
    if (__atomic_compare_exchange_n(&shared, &expected, method, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return method;
    BIO_meth_free(method);
    return expected;
}

// Reads and writes `fd` for `ssl` (which then owns the BIO); 1 on success.
static inline int jobwire_tls_set_socket(SSL *ssl, int fd) {
    BIO_METHOD *method = jobwire_bio_method();
    if (method == NULL) return 0;
    BIO *bio = BIO_new(method);
    if (bio == NULL) return 0;
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio);
    return 1;
}
