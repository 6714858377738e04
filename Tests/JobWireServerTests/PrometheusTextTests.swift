@testable import JobWireServer
import Testing

@Suite("Prometheus' text format")
struct PrometheusTextTests {
    @Test("families keep their samples together whoever adds them; labels and help are escaped; numbers are plain")
    func exposition() {
        var text = PrometheusText()
        text.family("jobwire_connections", .gauge, "Open connections, by port.")
        text.sample("jobwire_connections", [("port", "binary")], 3)
        text.family("jobwire_jobs", .gauge, "Jobs \\ held\nnow.")
        text.sample("jobwire_jobs", 1.5)
        // A second source adds to a family already named: its HELP is not repeated, its sample joins the family.
        text.family("jobwire_connections", .gauge, "ignored")
        text.sample("jobwire_connections", [("port", "http"), ("note", "a \"quoted\"\\path\nline")], 2)
        text.sample("stray_total", 1)
        #expect(text.text == """
            # HELP jobwire_connections Open connections, by port.
            # TYPE jobwire_connections gauge
            jobwire_connections{port="binary"} 3
            jobwire_connections{port="http",note="a \\"quoted\\"\\\\path\\nline"} 2
            # HELP jobwire_jobs Jobs \\\\ held\\nnow.
            # TYPE jobwire_jobs gauge
            jobwire_jobs 1.5
            # TYPE stray_total untyped
            stray_total 1

            """)
        #expect(PrometheusText.format(.infinity) == "+Inf" && PrometheusText.format(1e20) == "1e+20")
    }

    @Test("a latency histogram becomes cumulative buckets that never count a recording below its value")
    func histogram() {
        var latency = LatencyHistogram()
        for micros: UInt64 in [10, 40, 90, 120, 900, 5_000, 2_000_000] { latency.record(microseconds: micros) }
        let exported = latency.prometheus(bounds: [0.000_05, 0.000_1, 0.001, 0.01, 1], unitPerMicrosecond: 1e-6)
        #expect(exported.cumulative.map(\.count) == [2, 3, 5, 6, 6])
        #expect(exported.count == 7)
        #expect(abs(exported.sum - 2.00616) < 1e-9)
        var text = PrometheusText()
        text.family("d_seconds", .histogram, "d")
        text.histogram("d_seconds", [("method", "GetMetadata")], exported)
        #expect(text.text.contains(#"d_seconds_bucket{method="GetMetadata",le="0.001"} 5"#))
        #expect(text.text.contains(#"d_seconds_bucket{method="GetMetadata",le="+Inf"} 7"#))
        #expect(text.text.contains(#"d_seconds_count{method="GetMetadata"} 7"#))
        #expect(!text.text.contains("# TYPE d_seconds_bucket"), "the samples stay in their family")
    }
}
