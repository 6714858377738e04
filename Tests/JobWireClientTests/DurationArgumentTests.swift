import JobWireCommandLine
import JobWireTestSupport
import Testing

/// The one duration syntax of jobwired's and jobwire's flags.
@Suite("Duration arguments", .ownThread)
struct DurationArgumentTests {
    @Test("units and plain seconds", arguments: [
        ("500ms", 500), ("2s", 2_000), ("1.5s", 1_500), ("1m", 60_000), ("15m", 900_000), ("1h", 3_600_000),
        ("7d", 604_800_000), ("30", 30_000), ("0.5", 500), ("0", 0), ("0.0004s", 0), ("2.5ms", 3),
    ] as [(String, Int64)])
    func accepted(text: String, milliseconds: Int64) {
        #expect(DurationArgument(argument: text)?.milliseconds == milliseconds)
    }

    @Test("anything else is refused", arguments: ["", "s", "ms", "2x", "-1", "-1s", "+1s", "1e3", "inf", "nan", "1.2.3s",
                                                  "1 s", "1S", "99999999999999999999d"])
    func refused(text: String) {
        #expect(DurationArgument(argument: text) == nil)
    }

    @Test("defaults print in the largest whole unit")
    func defaultDescriptions() {
        #expect(DurationArgument(milliseconds: 86_400_000).defaultValueDescription == "1d")
        #expect(DurationArgument(milliseconds: 90_000).defaultValueDescription == "90s")
        #expect(DurationArgument(milliseconds: 1_500).defaultValueDescription == "1500ms")
        #expect(DurationArgument(milliseconds: 0).defaultValueDescription == "0s")
    }
}
