"""The coordinator's final report and verdict."""
from __future__ import annotations

import collections
import re
from typing import Any

from .common import FD_SETTLE_S, INJECTED_WINDOW_S, KILL_WINDOW_AFTER_READY_S, violation_kind
from .server import RESTART_STORE_FDS


class Reporting:
    """Part of ``Soak``: the report at the end of a run and the verdict."""

    def report(self, reports: list[dict[str, Any]], load_end: float, fds_end: list[str], rss_end: int | None,
               exit_status: int | None, store_status: int, store_output: str, final_stats: Any) -> int:
        calls: collections.Counter[str] = collections.Counter(self.stats.calls)
        errors: collections.Counter[tuple[str, str, str]] = collections.Counter(self.stats.errors)
        faults = list(self.stats.faults)
        injections: list[tuple[float, str]] = []
        counters: collections.Counter[str] = collections.Counter(self.stats.counters)
        violation_count = len(self.violations)
        violations = list(self.violations)
        violation_kinds: collections.Counter[str] = collections.Counter(violation_kind(v) for v in self.violations)
        unexpected: list[str] = []
        harness: list[str] = []
        final_kinds: collections.Counter[str] = collections.Counter()
        final_entries = 0
        for report in reports:
            calls.update(report["calls"])
            errors.update(report["errors"])
            faults += report["faults"]
            injections += report["injections"]
            counters.update(report["counters"])
            violation_count += report["violation_count"]
            violations += report["violations"]
            violation_kinds.update(report["violation_kinds"])
            unexpected += report["unexpected"]
            harness += report["harness"]
            final_kinds.update(report["final_check"]["kinds"])
            final_entries += report["final_check"]["entries"]
        self.checkpoints.append({"label": "final", "entries": final_entries, "kinds": dict(final_kinds),
                                 "violations": sum(r["final_check"]["violation_count"] for r in reports)})
        failures: list[str] = []
        if len(reports) != len(self.processes):
            failures.append(f"{len(self.processes) - len(reports)} load processes sent no report")

        # Connection errors: each must fall in the window of an injected fault.
        by_slot: dict[str, list[float]] = collections.defaultdict(list)
        for t, slot in injections:
            by_slot[slot].append(t)
        fault_classes: collections.Counter[str] = collections.Counter()
        unexplained: list[str] = []
        for t, slot, method, what in faults:
            if self.kill_t is not None and self.ready_t is not None and \
                    self.kill_t - 0.1 <= t <= self.ready_t + KILL_WINDOW_AFTER_READY_S:
                fault_classes["SIGKILL"] += 1
            elif any(s - 0.05 <= t <= s + INJECTED_WINDOW_S for s in by_slot.get(slot, ())):
                fault_classes["injected RST"] += 1
            else:
                unexplained.append(f"{slot} {method} {what} at +{t - self.t_start:.1f}s")
        if unexplained:
            failures.append(f"{len(unexplained)} connection errors outside every injected fault's window")
        unexpected_count = sum(count for (_, _, klass), count in errors.items() if klass == "unexpected")
        if unexpected_count:
            failures.append(f"{unexpected_count} unexpected errors")
        if violation_count:
            failures.append(f"{violation_count} violations")
        if harness:
            failures.append(f"{len(harness)} soak harness errors")

        # Memory: drift after warm-up.
        restarted = [s for s in self.samples if self.ready_t is not None and s.t >= self.ready_t]
        drift_text = "n/a"
        warm_mean = end_mean = 0.0
        if self.ready_t is not None and restarted:
            warm_end = self.ready_t + max(60.0, (load_end - self.ready_t) / 3)
            window = self.args.drift_window
            warm = [s for s in restarted if s.t <= warm_end][-window:]
            end = [s for s in restarted if s.t <= load_end][-window:]
            if len(warm) < 3 or len(end) < 3:
                failures.append(f"too few RSS samples for the drift ({len(warm)} at warm-up end, {len(end)} at end)")
            elif end[0].t <= warm[-1].t:
                # Both windows would share samples: a development run of a couple of minutes. Said, not hidden.
                drift_text = ("not measured: the run is too short for separate warm-up and end windows "
                              "(--minutes 2.5 or more)")
            else:
                warm_mean = sum(s.rss_kib for s in warm) / len(warm)
                end_mean = sum(s.rss_kib for s in end) / len(end)
                drift = (end_mean - warm_mean) / warm_mean * 100
                drift_text = (f"{drift:+.2f} % (warm-up end +{warm[-1].t - self.t_start:.0f}s: "
                              f"{[round(s.rss_kib / 1024, 1) for s in warm]} MiB, mean {warm_mean / 1024:.2f}; "
                              f"end +{end[-1].t - self.t_start:.0f}s: {[round(s.rss_kib / 1024, 1) for s in end]} "
                              f"MiB, mean {end_mean / 1024:.2f})")
                if drift >= self.args.drift_limit:
                    failures.append(f"RSS drift {drift:+.2f} % >= {self.args.drift_limit:g} %")
                warm_anon = sum(s.anon_kib for s in warm) / len(warm)
                end_anon = sum(s.anon_kib for s in end) / len(end)
                drift_text += (f"; heap (RssAnon) {warm_anon / 1024:.2f} -> {end_anon / 1024:.2f} MiB "
                               f"({(end_anon - warm_anon) / max(1.0, warm_anon) * 100:+.1f} %, "
                               f"{(end_anon - warm_anon) / 1024 / max(1e-9, (end[-1].t - warm[-1].t) / 60):+.2f} "
                               f"MiB/min)")
        else:
            failures.append("no RSS samples after the restart")

        # Descriptors: everything but the store's files exactly as at the idle start; the store's files within
        # what a restarted server opens by design (RESTART_STORE_FDS), and not growing after warm-up.
        base_store, end_store = self.store_fds(self.baseline_fds), self.store_fds(fds_end)
        base_other, end_other = self.non_store(self.baseline_fds), self.non_store(fds_end)
        fd_text = (f"idle baseline {len(self.baseline_fds)} ({sum(base_store.values())} store), end "
                   f"{len(fds_end)} ({sum(end_store.values())} store: {dict(end_store)}) "
                   f"{self.fd_settle_s:.1f} s after the last client left")
        if end_other != base_other:
            failures.append(f"descriptors other than the store's at the end differ from the idle baseline: extra "
                            f"{dict(end_other - base_other)}, missing {dict(base_other - end_other)} "
                            f"{FD_SETTLE_S:.0f} s after the last client left")
        over = end_store - (base_store + RESTART_STORE_FDS)
        if over:
            failures.append(f"store descriptors beyond the baseline and the restart's by-design ones: {dict(over)}")
        late = [s.store_fds for s in restarted if self.ready_t is not None and
                s.t >= self.ready_t + max(60.0, (load_end - self.ready_t) / 3)]
        if late and max(late + [sum(end_store.values())]) != min(late + [sum(end_store.values())]):
            failures.append(f"store descriptors changed after warm-up: {sorted(set(late))} then "
                            f"{sum(end_store.values())} at the end")
        if exit_status != 0:
            failures.append(f"jobwired exited with status {exit_status} after SIGTERM (expected 0)")
        if store_status != 0:
            failures.append(f"--check-store: {store_status}: {store_output[:300]}")

        # Server log.
        log_levels: collections.Counter[str] = collections.Counter()
        notable: list[str] = []
        for line in self.server.log_path.read_text(errors="replace").splitlines():
            match = re.match(r"^\S+ (trace|debug|info|notice|warning|error|critical) ", line)
            if match is None:
                continue
            level = match.group(1)
            log_levels[level] += 1
            if level in ("warning", "error", "critical") and "development mode" not in line:
                notable.append(line)
        if log_levels["critical"]:
            failures.append(f"{log_levels['critical']} critical lines in the server log")

        # Summary.
        elapsed = load_end - self.t_start
        total = sum(calls.values())
        print()
        print("=" * 100)
        print(f"SOAK SUMMARY  seed {self.args.seed}  load {elapsed / 60:.1f} min  workdir {self.workdir}")
        print(f"calls: {total:,} in {elapsed:.0f} s = {total / max(1, elapsed):.0f} calls/s")
        for method, count in sorted(calls.items(), key=lambda item: -item[1]):
            print(f"  {method:<28} {count:>10,}")
        print("errors by class:")
        by_class: collections.Counter[str] = collections.Counter()
        for (method, what, klass), count in errors.items():
            by_class[klass] += count
        for klass, count in sorted(by_class.items()):
            print(f"  {klass:<70} {count:>8,}")
            for (method, what, k), n in sorted(errors.items(), key=lambda item: -item[1]):
                if k == klass:
                    print(f"      {method:<24} {what:<44} {n:>8,}")
        print(f"  connection errors matched to faults: {self.format_counter(fault_classes) or 'none'}; "
              f"unexplained: {len(unexplained)}")
        for line in unexplained[:10]:
            print(f"      unexplained: {line}")
        for line in unexpected[:10]:
            print(f"      unexpected: {line}")
        print(f"faults injected: SIGKILL 1 (at +{(self.kill_t or 0) - self.t_start:.0f}s, ready again "
              f"{(self.ready_t or 0) - (self.kill_t or 0):.1f} s later); raw RSTs {sum(self.raw_faults.values())} "
              f"({self.format_counter(self.raw_faults)}); client connection RSTs {len(injections)}")
        print(f"ledger: {final_entries:,} jobs")
        for checkpoint in self.checkpoints:
            print(f"  check '{checkpoint['label']}': {checkpoint['entries']:,} entries: "
                  f"{self.format_counter(collections.Counter(checkpoint['kinds']))}; "
                  f"{checkpoint['violations']} violations")
        interesting = sorted(counters.items())
        print("counters: " + "; ".join(f"{name} {count:,}" for name, count in interesting))
        print(f"RSS drift after warm-up: {drift_text} (limit {self.args.drift_limit:g} %)")
        if self.args.heap_probe:
            warm_heap, end_heap = self.heap.get("warm"), self.heap.get("end")
            change = (f"; live {(end_heap[1] - warm_heap[1]) / warm_heap[1] * 100:+.1f} %, held "
                      f"{(end_heap[0] - warm_heap[0]) / warm_heap[0] * 100:+.1f} %" if warm_heap and end_heap else "")
            print(f"heap probe (glibc malloc_stats): warm-up end {self.format_heap(warm_heap)}; end "
                  f"{self.format_heap(end_heap)}{change}")
        if self.args.malloc_arena_max:
            print(f"jobwired ran with MALLOC_ARENA_MAX={self.args.malloc_arena_max}")
        if self.samples:
            print(f"RSS samples: first {self.samples[0].rss_kib / 1024:.1f} MiB, max "
                  f"{max(s.rss_kib for s in self.samples) / 1024:.1f} MiB, last {self.samples[-1].rss_kib / 1024:.1f} "
                  f"MiB (after the clients left: {(rss_end or 0) / 1024:.1f} MiB); {len(self.samples)} samples")
        print(f"fds: {fd_text}; max under load {max((s.fds for s in self.samples), default=0)}")
        if end_other != base_other:
            for line in self.sockets_end:
                match = re.search(r"remote port (\d+)", line)
                raw = [f"raw fault '{kind}' at +{t - self.t_start:.1f}s" for t, port, kind in self.raw_ports
                       if match and port == int(match.group(1))]
                print(f"  server socket at the end: {line}{' <- ' + raw[-1] if raw else ''}")
        print(f"jobwired exit status after SIGTERM: {exit_status}; --check-store: {store_output[:80]!r}")
        if final_stats is not None:
            print("server stats (since the restart):")
            for method in final_stats.methods:
                if method.calls:
                    print(f"  {method.method.rsplit('/', 1)[-1]:<20} calls {method.calls:>9,} errors "
                          f"{method.errors:>6,}  p50 {method.p50_us:>6} us  p99 {method.p99_us:>7} us  "
                          f"p99.9 {method.p999_us:>7} us")
        print(f"server log lines by level: {dict(log_levels)}")
        for line in notable[:15]:
            print(f"  log: {line[:220]}")
        if violation_kinds:
            print("violations by kind:")
            for kind, count in violation_kinds.most_common():
                print(f"  {count:>7,}  {kind}")
                example = next((v for v in violations if violation_kind(v) == kind), None)
                if example:
                    print(f"           e.g. {example[:400]}")
        for text in harness[:5]:
            print(f"  harness: {text[:2000]}")
        if failures:
            print(f"SOAK FAIL {'; '.join(failures)}")
            return 1
        print(f"SOAK PASS {total:,} calls ({total / max(1, elapsed):.0f}/s) in {elapsed / 60:.1f} min; "
              f"{final_entries:,} ledger jobs checked twice; RSS drift {drift_text.split(' (')[0]}; "
              f"fds {len(fds_end)}/{len(self.baseline_fds)}")
        return 0

    @staticmethod
    def format_heap(stats: tuple[int, int] | None) -> str:
        if stats is None:
            return "unavailable (no gdb, or malloc_stats printed nothing)"
        return f"malloc holds {stats[0] / 2**20:.2f} MiB, {stats[1] / 2**20:.2f} MiB in live allocations"

    @staticmethod
    def format_counter(counter: collections.Counter[str]) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in sorted(counter.items(), key=lambda kv: -kv[1]))
