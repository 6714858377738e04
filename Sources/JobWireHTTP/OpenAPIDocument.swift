import NIOCore

/// The OpenAPI 3.1 document of the HTTP API, served at `/v1/openapi.json`.
/// ``bytes`` is generated from `docs/openapi.json` by `scripts/generate-openapi`
/// (OpenAPIDocument+Generated.swift); `make check-openapi` fails on drift.
enum OpenAPIDocument {
    static let bytes = ByteBuffer(string: text)
}
