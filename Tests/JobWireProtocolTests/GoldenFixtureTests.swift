import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

/// Interop with Google's protobuf: fixtures it encoded decode to the expected
/// values, and what the Swift codec encodes, it decodes back to equal messages.
@Suite("Golden fixtures from the reference implementation", .ownThread)
struct GoldenFixtureTests {
    @Test("every fixture file has an expected value and vice versa")
    func fixtureSetIsComplete() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.goldenFixtures.path)
            .filter { $0.hasSuffix(".bin") }
            .map { String($0.dropLast(4)) }
        #expect(Set(files) == Set(GoldenValues.all.map(\.name)))
        #expect(files.count == 45)
    }

    @Test("reference bytes decode to the expected values", arguments: GoldenValues.all.map(\.name))
    func decodesReferenceBytes(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: TestPaths.goldenFixtures.appendingPathComponent("\(name).bin")))
        let fixture = try #require(GoldenValues.all.first { $0.name == name })
        let (equal, _) = try fixture.decodeAndCompare(bytes)
        #expect(equal, "\(name): decoded value differs from GoldenValues")
    }

    @Test("Swift encodings decode to equal messages in the reference implementation",
          .enabled(if: TestPaths.referencePython != nil || TestPaths.interopRequired,
                   "needs the reference Python (make test creates .venv)"),
          arguments: GoldenValues.all.map(\.name))
    func referenceDecodesSwiftBytes(name: String) throws {
        let python = try #require(TestPaths.referencePython, "no reference Python: run `make test` or set JOBWIRE_PYTHON")
        let fixture = try #require(GoldenValues.all.first { $0.name == name })
        let reference = try [UInt8](Data(contentsOf: TestPaths.goldenFixtures.appendingPathComponent("\(name).bin")))
        let (_, encoded) = try fixture.decodeAndCompare(reference)

        let process = Process()
        process.executableURL = python
        process.arguments = [TestPaths.packageRoot.appendingPathComponent("scripts/golden/verify.py").path, name]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(encoded))
        try input.fileHandleForWriting.close()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: diagnostics, as: UTF8.self))")
    }
}
