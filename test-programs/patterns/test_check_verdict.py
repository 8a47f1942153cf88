#!/usr/bin/env python3
"""test_check_verdict.py - the checker's own tests, without shim or analyzer.

testdata/sample_report.json is a hand-written report that satisfies the
header of testdata/sample.c for "sample leaky 4 4096". Each test breaks one
thing the checker must catch (a count, a size outside the metadata slack,
a view site, a function outside the first frames, a truncated log...) and
asserts that the verdict turns to failure; the unbroken sample must pass.
"""

import copy
import importlib.util
import io
import json
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("check_verdict",
                                               os.path.join(HERE, "check_verdict.py"))
cv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cv)

with open(os.path.join(HERE, "testdata", "sample.c"), encoding="utf-8") as _f:
    SAMPLE_SOURCE = _f.read()
with open(os.path.join(HERE, "testdata", "sample_report.json"), encoding="utf-8") as _f:
    SAMPLE_REPORT = json.load(_f)


def verdict_of(report, variant="leaky", args=("4", "4096")):
    spec = cv.parse_header(SAMPLE_SOURCE)
    env = cv.bind_params(spec, list(args))
    out = io.StringIO()
    v = cv.check_report(report, spec, variant, env, "sample.c", out=out)
    return v, out.getvalue()


class HeaderTests(unittest.TestCase):
    def test_params_defaults_and_arguments(self):
        spec = cv.parse_header(SAMPLE_SOURCE)
        self.assertEqual(cv.bind_params(spec, []),
                         {"count": 1000, "size": 1048576, "typelen": 5})
        self.assertEqual(cv.bind_params(spec, ["4"])["count"], 4)
        with self.assertRaises(cv.HeaderError):
            cv.bind_params(spec, ["1", "2", "3"])

    def test_continuation_lines_are_joined(self):
        spec = cv.parse_header(SAMPLE_SOURCE)
        finding = [c for _, _, (kind, c), _ in spec["expect"] if kind == "finding"][0]
        keys = [k for k, _, _ in finding]
        self.assertIn("alloc_site", keys)  # on the third physical line
        self.assertIn(("block_bytes", "~", "count*size"), finding)

    def test_site_markers(self):
        spec = cv.parse_header(SAMPLE_SOURCE)
        lines = SAMPLE_SOURCE.splitlines()
        view = spec["sites"][("VIEW-SITE", "prefix")]
        self.assertIn("sl_sub", lines[view - 1])
        self.assertIn("sl_make", lines[spec["sites"][("ALLOC-SITE", "msg")] - 1])
        with self.assertRaises(cv.HeaderError):
            cv.parse_header(SAMPLE_SOURCE + "\nx(); /* VIEW-SITE prefix */\n")

    def test_variant_lists(self):
        self.assertTrue(cv.applies(["leaky", "copy"], "copy"))
        self.assertTrue(cv.applies(["*"], "anything"))
        self.assertFalse(cv.applies(["leaky"], "copy"))

    def test_expressions(self):
        env = {"count": 10, "size": 100, "keep": 3}
        self.assertEqual(cv.evaluate("min(count,1000)*(size-5)", env), 950)
        self.assertEqual(cv.evaluate("(count+keep-1)//keep", env), 4)
        self.assertEqual(cv.evaluate("-count+2*size", env), 190)
        for bad in ("__import__('os')", "count.real", "count/2", "unknown", "1 if 1 else 2"):
            with self.assertRaises(cv.HeaderError, msg=bad):
                cv.evaluate(bad, env)

    def test_bad_clauses(self):
        for bad in ("frobs=1", "finding blocks", "leak blocks=>1"):
            with self.assertRaises(cv.HeaderError, msg=bad):
                cv.parse_clause(bad)


class ProgramHeaderTests(unittest.TestCase):
    """Every pattern program's header must be well formed (a typo would
    otherwise show up only when the shim and the analyzer exist)."""

    def test_every_program_header_lints(self):
        owner_dir = os.path.join(HERE, "..", "owner")
        sources = sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                         if f.endswith((".c", ".cpp")))
        sources += sorted(os.path.join(owner_dir, f) for f in os.listdir(owner_dir)
                          if f.endswith((".c", ".cpp", ".py")))
        self.assertGreaterEqual(len(sources), 17)
        for name in sources:
            with open(name, encoding="utf-8") as f:
                spec = cv.parse_header(f.read())
            with self.subTest(program=name):
                variants = cv.lint_spec(spec)
                self.assertTrue(variants - {"*"}, name)
                self.assertTrue(spec["params"], name)

    def test_lint_catches_a_missing_marker(self):
        spec = cv.parse_header(SAMPLE_SOURCE.replace("VIEW-SITE prefix", "VIEW-SITE other"))
        with self.assertRaises(cv.HeaderError):
            cv.lint_spec(spec)

    def test_lint_catches_an_unknown_name(self):
        spec = cv.parse_header(SAMPLE_SOURCE.replace("blocks=count views", "blocks=cont views"))
        with self.assertRaises(cv.HeaderError):
            cv.lint_spec(spec)


class GateClauseTests(unittest.TestCase):
    def with_clause(self, clause):
        # In place of the PENDING line: the site markers must not move.
        pending = " * PENDING leaky: nothing to say"
        self.assertIn(pending, SAMPLE_SOURCE)
        return cv.parse_header(SAMPLE_SOURCE.replace(pending, " * EXPECT leaky: " + clause))

    def test_check_clause_lint(self):
        cv.lint_spec(self.with_clause("check max_retained=count*size max_leaked=0 status=1"))
        for bad in ("check max_retained=1", "check status=0", "check max_retained=1 status=0 x=1"):
            with self.assertRaises(cv.HeaderError, msg=bad):
                cv.lint_spec(self.with_clause(bad))

    def test_check_clause_is_not_judged_on_a_report(self):
        spec = self.with_clause("check max_retained=0 status=0")
        env = cv.bind_params(spec, ["4", "4096"])
        v = cv.check_report(SAMPLE_REPORT, spec, "leaky", env, "sample.c", out=io.StringIO())
        self.assertEqual(v.failed, 0)


    def test_a_clause_matching_nothing_must_name_a_known_function(self):
        env = cv.bind_params(cv.parse_header(SAMPLE_SOURCE), ["4", "4096"])
        for clause, failed in (("finding view_function=no_such_function blocks=0", 1),
                               ("leak function=no_such_function blocks=0", 1),
                               ("finding view_function=receive blocks=0", 0)):
            out = io.StringIO()
            v = cv.check_report(SAMPLE_REPORT, self.with_clause(clause), "leaky", env,
                                "sample.c", out=out)
            self.assertEqual(v.failed, failed, clause + "\n" + out.getvalue())


class DeadRegionTests(unittest.TestCase):
    """kind=dead_region clauses: the holder's stacks, the kept
    blocks' figures, and a complete pointer scan required."""

    CLAUSE = ("finding kind=dead_region blocks=count-2 block_bytes~(count-2)*size "
              "view_function=keep_type alloc_function=receive holder_function=receive "
              "holder_site=msg")

    def spec_with(self, clause):
        pending = " * PENDING leaky: nothing to say"
        return cv.parse_header(SAMPLE_SOURCE.replace(pending, " * EXPECT leaky: " + clause))

    def report(self, fn=None):
        """The sample plus a dead_region finding: 2 blocks kept through the
        dead region of a block allocated at receive, viewed by keep_type."""
        r = copy.deepcopy(SAMPLE_REPORT)
        f0 = r["findings"][0]
        dead = {"kind": "dead_region", "view_kind": "slice", "blocks": 2,
                "block_bytes": 2 * (4096 + 48), "used_bytes": 0,
                "retained_bytes": 2 * (4096 + 48), "holder_blocks": 1,
                "holder_bytes": 4096 + 48, "holder_view_bytes": 5, "holder_views": 1,
                "holder_tail": True, "pinned_seconds": 0.5,
                "alloc_stack": copy.deepcopy(f0["alloc_stack"]),
                "holder_alloc_stack": copy.deepcopy(f0["alloc_stack"]),
                "view_stack": copy.deepcopy(f0["view_stack"])}
        r["findings"].append(dead)
        r["retained_bytes"] += dead["retained_bytes"]
        r["dead_region_analysis"] = "complete"
        if fn:
            fn(r)
        return r

    def verdict(self, report, clause=None):
        spec = self.spec_with(clause or self.CLAUSE)
        cv.lint_spec(spec)
        env = cv.bind_params(spec, ["4", "4096"])
        out = io.StringIO()
        # the sample's findings=1 clause counts every kind: drop it here
        spec["expect"] = [e for e in spec["expect"] if e[2][0] != "findings"]
        return cv.check_report(report, spec, "leaky", env, "sample.c", out=out), out.getvalue()

    def test_dead_region_finding_passes(self):
        v, text = self.verdict(self.report())
        self.assertEqual(v.failed, 0, text)

    def test_block_count(self):
        def more(r):
            r["findings"][1]["blocks"] = 3
        v, text = self.verdict(self.report(more))
        self.assertGreater(v.failed, 0, text)

    def test_holder_function(self):
        def other(r):
            for fr in r["findings"][1]["holder_alloc_stack"]:
                if fr["function"] == "receive":
                    fr["function"] = "elsewhere"
        v, text = self.verdict(self.report(other))
        self.assertIn("blocks: 0, expected 2", text)

    def test_needs_a_complete_scan(self):
        def no_scan(r):
            r["findings"].pop()
            r["retained_bytes"] = r["findings"][0]["retained_bytes"]
            r["dead_region_analysis"] = "unavailable: no pointer scan"
        v, text = self.verdict(self.report(no_scan), "finding kind=dead_region blocks=0")
        self.assertEqual(v.failed, 1, text)
        self.assertIn("dead_region_analysis", text)

    def test_zero_with_a_complete_scan(self):
        def fixed(r):
            r["findings"].pop()
            r["retained_bytes"] = r["findings"][0]["retained_bytes"]
        v, text = self.verdict(self.report(fixed), "finding kind=dead_region blocks=0")
        self.assertEqual(v.failed, 0, text)

    def test_shape(self):
        def used(r):
            r["findings"][1]["used_bytes"] = 8
        v, text = self.verdict(self.report(used))
        self.assertIn("dead_region used = 0", text)

        def over(r):
            r["findings"][1]["retained_bytes"] += 1
            r["retained_bytes"] += 1
        v, text = self.verdict(self.report(over))
        self.assertIn("dead_region used = 0, retained <= block", text)

    def test_holder_site_needs_its_function(self):
        with self.assertRaises(cv.HeaderError):
            cv.lint_spec(self.spec_with("finding kind=dead_region blocks=0 holder_site=msg"))


class FunctionMatchTests(unittest.TestCase):
    def test_names(self):
        self.assertTrue(cv.function_matches("keep_type", "keep_type"))
        self.assertFalse(cv.function_matches("keep_type2", "keep_type"))
        self.assertFalse(cv.function_matches(None, "keep_type"))
        self.assertTrue(cv.function_matches("SessionTable::open(unsigned int, unsigned long)",
                                            "SessionTable::open"))
        self.assertFalse(cv.function_matches("OwningSessionTable::open(unsigned int)",
                                             "SessionTable::open"))
        self.assertTrue(cv.function_matches("_ZN12SessionTable4openEjm", "SessionTable::open"))
        self.assertTrue(cv.function_matches("_ZN7Session10open_inboxEm", "Session::open_inbox"))
        self.assertFalse(cv.function_matches("_ZN7Session5closeEv", "Session::open_inbox"))
        self.assertTrue(cv.function_matches("(anonymous namespace)::make_slice(int)",
                                            "make_slice"))
        self.assertFalse(cv.function_matches("(anonymous namespace)::make_slices(int)",
                                             "make_slice"))


class OwnerTests(unittest.TestCase):
    """kind=owner clauses: the owners' stack, the offsets as a range, the
    block_size filter, owners=N, a complete scan required."""

    CLAUSE = ("finding kind=owner owner_blocks=count blocks=count block_size=size "
              "ref_offset_min=16 ref_offset_max=16 owner_function=keep_type "
              "alloc_function=receive")

    def spec_with(self, clause):
        pending = " * PENDING leaky: nothing to say"
        return cv.parse_header(SAMPLE_SOURCE.replace(pending, " * EXPECT leaky: " + clause))

    def report(self, fn=None):
        """The sample plus an owner finding: 4 blocks of 4096 bytes kept by
        4 24-byte owners allocated at keep_type."""
        r = copy.deepcopy(SAMPLE_REPORT)
        f0 = r["findings"][0]
        owner = {"kind": "owner", "owner_blocks": 4, "owner_bytes": 96, "owner_min_size": 24,
                 "owner_max_size": 24, "blocks": 4, "block_bytes": 4 * 4096,
                 "min_size": 4096, "max_size": 4096, "retained_blocks": 4,
                 "retained_bytes": 4 * 4096, "ref_offset_min": 16, "ref_offset_max": 16,
                 "alloc_stack": copy.deepcopy(f0["alloc_stack"]),
                 "owner_stack": copy.deepcopy(f0["view_stack"])}
        r["findings"].append(owner)
        r["owned_bytes"] = owner["retained_bytes"]
        r["owner_analysis"] = "complete"
        if fn:
            fn(r)
        return r

    def verdict(self, report, clause=None):
        spec = self.spec_with(clause or self.CLAUSE)
        cv.lint_spec(spec)
        env = cv.bind_params(spec, ["4", "4096"])
        out = io.StringIO()
        spec["expect"] = [e for e in spec["expect"] if e[2][0] != "findings"]
        return cv.check_report(report, spec, "leaky", env, "sample.c", out=out), out.getvalue()

    def test_owner_finding_passes(self):
        v, text = self.verdict(self.report())
        self.assertEqual(v.failed, 0, text)

    def test_offset_range(self):
        def wide(r):
            r["findings"][-1]["ref_offset_max"] = 32
        v, _ = self.verdict(self.report(wide))
        self.assertGreater(v.failed, 0)

    def test_block_size_filters(self):
        def other(r):
            r["findings"][-1]["min_size"] = r["findings"][-1]["max_size"] = 8192
        v, _ = self.verdict(self.report(other))
        self.assertGreater(v.failed, 0)

    def test_owner_function(self):
        v, _ = self.verdict(self.report(), self.CLAUSE.replace("keep_type", "receive"))
        self.assertGreater(v.failed, 0)

    def test_needs_a_complete_scan(self):
        def partial(r):
            r["owner_analysis"] = "partial: capped"
        v, _ = self.verdict(self.report(partial))
        self.assertGreater(v.failed, 0)

    def test_owned_bytes_are_the_owner_findings(self):
        def wrong(r):
            r["owned_bytes"] += 1
        v, _ = self.verdict(self.report(wrong))
        self.assertGreater(v.failed, 0)

    def test_owner_count(self):
        v, text = self.verdict(self.report(), "owners=1")
        self.assertEqual(v.failed, 0, text)
        v, _ = self.verdict(self.report(), "owners=0")
        self.assertGreater(v.failed, 0)


class ReportTests(unittest.TestCase):
    def assertPasses(self, report, variant="leaky"):
        v, text = verdict_of(report, variant)
        self.assertEqual(v.failed, 0, text)
        self.assertGreaterEqual(v.passed, 8, text)

    def assertFails(self, report, variant="leaky", needle=None):
        v, text = verdict_of(report, variant)
        self.assertGreater(v.failed, 0, text)
        if needle:
            self.assertIn(needle, [l for l in text.splitlines() if l.startswith("FAIL")][0],
                          text)

    def mutated(self, fn):
        r = copy.deepcopy(SAMPLE_REPORT)
        fn(r)
        return r

    def test_sample_passes(self):
        self.assertPasses(SAMPLE_REPORT)

    def test_sample_fails_the_fixed_variant(self):
        v, _ = verdict_of(SAMPLE_REPORT, "copy")
        self.assertEqual(v.failed, 3)

    def test_fixed_variant_passes_without_the_finding(self):
        def fix(r):
            r["findings"] = []
            r["retained_bytes"] = 0
            r["leaks"]["groups"] = r["leaks"]["groups"][1:]
            # the fix copies the type: keep_type allocates the copies
            clone = copy.deepcopy(r["hotspots"][0])
            clone["stack"][0]["function"] = "keep_type"
            r["hotspots"].append(clone)
        self.assertPasses(self.mutated(fix), "copy")

    def test_block_count_is_exact(self):
        def more(r):
            r["findings"][0]["blocks"] = 5
        self.assertFails(self.mutated(more), needle="blocks: 5, expected 4")

    def test_used_bytes_are_exact(self):
        def used(r):
            f = r["findings"][0]
            f["used_bytes"] += 1
            f["retained_bytes"] -= 1
            r["retained_bytes"] -= 1
        self.assertFails(self.mutated(used), needle="used_bytes")

    def test_block_bytes_beyond_the_metadata_slack(self):
        def big(r):
            f = r["findings"][0]
            f["block_bytes"] = 4 * (4096 + 65)
            f["retained_bytes"] = f["block_bytes"] - f["used_bytes"]
            r["retained_bytes"] = f["retained_bytes"]
        self.assertFails(self.mutated(big), needle="block_bytes")

    def test_block_bytes_below_the_payload(self):
        def small(r):
            f = r["findings"][0]
            f["block_bytes"] = 4 * 4096 - 1
            f["retained_bytes"] = f["block_bytes"] - f["used_bytes"]
            r["retained_bytes"] = f["retained_bytes"]
        self.assertFails(self.mutated(small), needle="block_bytes")

    def test_inconsistent_retained_bytes(self):
        def wrong(r):
            r["findings"][0]["retained_bytes"] += 8
        self.assertFails(self.mutated(wrong), needle="retained = block - used")

    def test_view_site_line(self):
        line = cv.parse_header(SAMPLE_SOURCE)["sites"][("VIEW-SITE", "prefix")]
        self.assertEqual(SAMPLE_REPORT["findings"][0]["view_stack"][0]["line"], line)

        def off_by_one(r):
            r["findings"][0]["view_stack"][0]["line"] = line + 1
        self.assertFails(self.mutated(off_by_one), needle="view site")

    def test_view_site_file(self):
        def other_file(r):
            r["findings"][0]["view_stack"][0]["file"] = "/src/other.c"
        self.assertFails(self.mutated(other_file), needle="view site")

    def test_view_function_must_be_in_the_first_frames(self):
        def deep(r):
            stack = r["findings"][0]["view_stack"]
            filler = {"address": "0x1", "module": None, "offset": "0x1", "function": None,
                      "file": None, "line": None, "inlined": False}
            stack[0:0] = [dict(filler) for _ in range(cv.VIEW_WINDOW)]
        self.assertFails(self.mutated(deep), needle="blocks: 0, expected 4")

    def test_wrong_alloc_function(self):
        def other(r):
            r["findings"][0]["alloc_stack"][2]["function"] = "receive_other"
        self.assertFails(self.mutated(other))

    def test_leak_group_is_matched_by_function(self):
        def gone(r):
            r["leaks"]["groups"][0]["stack"][1]["function"] = "elsewhere"
        self.assertFails(self.mutated(gone), needle="leaks groups naming receive (0) blocks")

    def test_runtime_leaks_do_not_count(self):
        def more_runtime(r):
            r["leaks"]["groups"][1]["blocks"] = 50
        self.assertPasses(self.mutated(more_runtime))

    def test_truncated_log(self):
        def cut(r):
            r["logs"][0]["truncated"] = True
        self.assertFails(self.mutated(cut), needle="not truncated")

    def test_schema(self):
        def other(r):
            r["schema"] = "sliceleak-report/2"
        self.assertFails(self.mutated(other), needle="schema")

    def test_missing_field(self):
        def drop(r):
            del r["findings"][0]["views"]
        self.assertFails(self.mutated(drop), needle="no field 'views'")

    def test_evaluation_points(self):
        # The sample is an "at end" report: the @peak clause is not checked...
        spec = cv.parse_header(SAMPLE_SOURCE)
        self.assertEqual(cv.report_points(spec, "leaky"), ["end", "peak"])
        self.assertEqual(cv.report_points(spec, "copy"), ["end"])
        # ...but the same figures at the peak are one block short of it.
        def at_peak(r):
            r["at"] = "peak"
        v, text = verdict_of(self.mutated(at_peak))
        self.assertEqual(v.failed, 1, text)
        self.assertIn("@peak finding", text)
        self.assertNotIn("EXPECT findings=1", text)

    def test_evaluation_point_must_be_the_one_asked(self):
        spec = cv.parse_header(SAMPLE_SOURCE)
        env = cv.bind_params(spec, ["4", "4096"])
        v = cv.check_report(SAMPLE_REPORT, spec, "leaky", env, "sample.c", out=io.StringIO(),
                            at="peak")
        self.assertGreater(v.failed, 0)

    def test_main_compares_a_report_file(self):
        src = os.path.join(HERE, "testdata", "sample.c")
        rep = os.path.join(HERE, "testdata", "sample_report.json")
        out = io.StringIO()
        import contextlib
        with contextlib.redirect_stdout(out):
            ok = cv.main(["--source", src, "--report", rep, "--", "sample", "leaky", "4", "4096"])
            bad = cv.main(["--source", src, "--report", rep, "--", "sample", "copy", "4", "4096"])
        self.assertEqual((ok, bad), (0, 1), out.getvalue())
        self.assertRegex(out.getvalue().splitlines()[-1], r"^\d+ passed, [1-9]\d* failed$")


if __name__ == "__main__":
    unittest.main(verbosity=1)
