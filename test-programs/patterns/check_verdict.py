#!/usr/bin/env python3
"""check_verdict.py - run a pattern program under sliceleak and check the
verdict its header states.

Usage:
  check_verdict.py --shim LIB --analyzer EXE --source SRC [--keep] -- PROG VARIANT [N...]
      Runs PROG without the shim, then under it, checks that stdout and the
      exit status are the same, runs `EXE report --format json` on the log(s)
      and compares the report with the EXPECT lines of SRC for VARIANT.
  check_verdict.py --source SRC --report JSON -- PROG VARIANT [N...]
      Compares an existing report only (the checker's own tests use this),
      with the EXPECT lines of the report's evaluation point ("at").
  Options for programs that are not executables of their own:
      --interpreter EXE  runs EXE PROG VARIANT [N...] (a Python script)
      --env NAME=VALUE   sets NAME in both runs' environment (repeatable)

The header language (in the source's comments; a leading " * ", "//" or
"#" is stripped, a trailing backslash joins the next line):

  PARAMS: count=1000 size=1048576   the numbers after VARIANT, in order, and
                                    their defaults (the Go originals' sizes)
  DEFINE: foo=40                    constants of the program (a sizeof the
                                    program _Static_asserts)
  EXPECT leaky,copy: CLAUSE         checked for the variants listed (* = all)
  EXPECT leaky: @peak CLAUSE        checked on `report --at peak` (@LABEL: at the
                                    sliceleak_snapshot(LABEL)); no @: at the end
  PENDING leaky: TEXT               stated, not checkable yet: printed only
  SLACK: 256                        the ~ tolerance per block (default 64)
  SHIM-OPTIONS: a=b:c=d             more SLICELEAK_OPTIONS for the traced run
  ALLOC-WINDOW: 16                  frames searched for alloc_function and
                                    owner_function (default 8)
  ... /* VIEW-SITE tag */           marks the line of the call creating the
  ... /* ALLOC-SITE tag */          kept view (the allocation); EXPECT clauses
                                    name the tag, never a line number

CLAUSE is a kind followed by checks KEY OP VALUE, where OP is one of
  =    equal                 >=  at least               <=  at most
  ~    at least VALUE and at most VALUE + 64 * blocks: libslice puts a header
       of at most 64 bytes in each backing block (block = header + cap*elem)
and VALUE an integer expression over PARAMS and DEFINEs (+ - * // min max),
or a name for the keys view_function, alloc_function, view_site, alloc_site,
holder_function, holder_site, owner_function, owner_site, function and kind.
The kinds:

  findings=N          the number of findings, of any kind
  finding ...         the findings (default kind view_pinned) whose view stack
                      names view_function within its first VIEW_WINDOW frames
                      (and whose allocation stack names alloc_function within
                      its first ALLOC_WINDOW frames, if given), summed. No
                      match sums to zero, so "finding ... blocks=0" says there
                      is no such finding; then each function the clause names
                      must still appear in some stack of the report (a renamed
                      function fails instead of passing). view_site/alloc_site: the frame
                      naming the function must be at the marked file and line.
                      kind=dead_region: memory kept alive through the dead
                      region of a view-pinned block (the holder); view_function
                      names the holder's view stack, alloc_function the kept
                      blocks' allocation stack, holder_function (holder_site:
                      an ALLOC-SITE tag) the holder's allocation stack. Such a
                      clause also requires "dead_region_analysis": "complete",
                      so that blocks=0 cannot pass for want of a pointer scan.
                      kind=owner: big blocks kept alive by small owner blocks;
                      owner_function (owner_site: an ALLOC-SITE tag) names the
                      owners' allocation stack, alloc_function the retained
                      blocks'; it requires "owner_analysis": "complete".
                      block_size=EXPR keeps only the findings whose blocks
                      all have that size (a filter, like the functions).
  owners=N            the number of owner findings
  leak function=F     the groups of "leaks" whose stack names F (any frame),
                      summed (a clause without function= checks the totals);
                      no match sums to zero, and F must appear in some stack
                      of the report
  peak function=F     the same over "peak"
  hotspot function=F  the same over "hotspots"
  totals ...          the "totals" object
  check max_retained=N [max_leaked=N] [max_owned=N] status=S
                      `sliceleak check --max-retained NB [--max-leaked NB]
                      [--max-owned NB]` exits with status S and ends with the
                      SUMMARY line (not checked when comparing a report file);
                      max_retained may be left out when max_owned is given

A function name matches a frame's function exactly, or without its
parameter list and a leading "(anonymous namespace)::" (demangled C++), or
as a mangled C++ name holding each "::"-separated component. Frames are innermost first; inlined frames count.

Exit status: 0 all checks passed, 1 a check failed, 2 usage error. The last
line printed is "N passed, N failed".
"""

import argparse
import ast
import glob
import json
import operator
import os
import re
import subprocess
import sys
import tempfile

VIEW_WINDOW = 4    # a view stack's first frame is in the caller of the slice API
ALLOC_WINDOW = 8   # allocation stacks start in malloc's callers: libslice, operator new
HEADER_SLACK = 64  # libslice's per-block metadata, at most (include/sliceleak/slice.h)
RUN_TIMEOUT = 50   # seconds per program or analyzer run (meson allows a test 60)
SCHEMA = "sliceleak-report/1"

NAME_KEYS = {"view_function", "alloc_function", "view_site", "alloc_site", "holder_function",
             "holder_site", "owner_function", "owner_site", "function", "kind", "block_size"}
OPS = ("<=", ">=", "=", "~")


class HeaderError(Exception):
    """The program's header is malformed: a bug in the test, not in sliceleak."""


# --- the header ------------------------------------------------------------

def header_lines(text):
    """The comment lines of a source with " * " stripped and continuations joined."""
    out, pending = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        for prefix in ("/*", "*/", "*", "//", "#"):
            if line.startswith(prefix):
                line = line[len(prefix):].strip()
                break
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        out.append(pending + line)
        pending = ""
    if pending:
        out.append(pending)
    return out


def parse_assignments(text, what):
    """"a=1 b=2" -> {"a": 1, "b": 2}."""
    result = {}
    for item in text.split():
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise HeaderError("bad %s item %r" % (what, item))
        try:
            result[name] = int(value, 0)
        except ValueError:
            raise HeaderError("%s %s: %r is not an integer" % (what, name, value)) from None
    return result


def parse_clause(text):
    """"finding blocks=count view_function=f" -> ("finding", [("blocks", "=", "count"), ...])."""
    words = text.split()
    if not words:
        raise HeaderError("empty EXPECT clause")
    kind, checks = words[0], []
    # findings=N: a kind and a check in one word.
    if "=" in kind:
        kind, _, value = kind.partition("=")
        checks.append(("count", "=", value))
    if kind not in ("findings", "owners", "finding", "leak", "peak", "hotspot", "totals",
                    "check"):
        raise HeaderError("unknown EXPECT kind %r" % kind)
    for word in words[1:]:
        m = re.match(r"^([a-z_]+)(<=|>=|=|~)([^<>=~].*)$", word)
        if not m:
            raise HeaderError("bad check %r in %r" % (word, text))
        checks.append((m.group(1), m.group(2), m.group(3)))
    return kind, checks


def parse_header(text):
    """The PARAMS, DEFINEs, EXPECT and PENDING lines and the site markers of a source."""
    spec = {"params": [], "defines": {}, "expect": [], "pending": [], "sites": {},
            "slack": HEADER_SLACK, "alloc_window": ALLOC_WINDOW, "shim_options": ""}
    for line in header_lines(text):
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        key, rest = key.strip(), rest.strip()
        if key == "PARAMS":
            spec["params"] = list(parse_assignments(rest, "PARAMS").items())
        elif key == "DEFINE":
            spec["defines"].update(parse_assignments(rest, "DEFINE"))
        elif key == "SHIM-OPTIONS":
            spec["shim_options"] = rest
        elif key in ("SLACK", "ALLOC-WINDOW"):
            try:
                spec["slack" if key == "SLACK" else "alloc_window"] = int(rest, 0)
            except ValueError:
                raise HeaderError("%s: %r is not an integer" % (key, rest)) from None
        elif key.startswith("EXPECT ") or key.startswith("PENDING "):
            variants = [v.strip() for v in key.split(None, 1)[1].split(",")]
            if key.startswith("EXPECT "):
                at = "end"
                if rest.startswith("@"):
                    at, _, rest = rest[1:].partition(" ")
                    if not at:
                        raise HeaderError("empty @ in %r" % line)
                spec["expect"].append((variants, at, parse_clause(rest), rest))
            else:
                spec["pending"].append((variants, rest))
    for lineno, raw in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"/\*\s*(VIEW-SITE|ALLOC-SITE)\s+([\w.-]+)\s*\*/", raw):
            tag = (m.group(1), m.group(2))
            if tag in spec["sites"]:
                raise HeaderError("%s %s marked twice" % tag)
            spec["sites"][tag] = lineno
    return spec


def lint_spec(spec):
    """Raises HeaderError unless every EXPECT clause evaluates with the default
    PARAMS and names only sites that are marked; returns the variants named."""
    env = bind_params(spec, [])
    variants = set()
    for names_of_variants, _, (kind, checks), clause in spec["expect"]:
        variants.update(names_of_variants)
        names, _ = split_checks(checks, env)
        for key, marker in (("view_site", "VIEW-SITE"), ("alloc_site", "ALLOC-SITE"),
                            ("holder_site", "ALLOC-SITE"), ("owner_site", "ALLOC-SITE")):
            if key in names and (marker, names[key]) not in spec["sites"]:
                raise HeaderError("no /* %s %s */ marker for %r" % (marker, names[key], clause))
        fn_key = {"view_site": "view_function", "alloc_site": "alloc_function",
                  "holder_site": "holder_function", "owner_site": "owner_function"}
        for site, fn in fn_key.items():
            if site in names and fn not in names:
                raise HeaderError("%s needs %s: %r" % (site, fn, clause))
        if kind in ("hotspot",) and "function" not in names:
            raise HeaderError("a hotspot clause needs function=: %r" % clause)
        if kind == "check":
            keys = {k for k, _, _ in checks}
            if ("status" not in keys or not keys & {"max_retained", "max_owned"}
                    or keys - {"max_retained", "max_leaked", "max_owned", "status"}):
                raise HeaderError("check takes max_retained= or max_owned=, status= "
                                  "[max_leaked=]: %r" % clause)
    if not variants:
        raise HeaderError("no EXPECT line")
    return variants


def applies(variants, variant):
    return "*" in variants or variant in variants


def bind_params(spec, args):
    """The values of PARAMS (from the numbers after the variant) and DEFINEs."""
    env = dict(spec["defines"])
    params = spec["params"]
    if len(args) > len(params):
        raise HeaderError("%d numbers given, PARAMS names only %d" % (len(args), len(params)))
    for i, (name, default) in enumerate(params):
        env[name] = int(args[i], 0) if i < len(args) else default
    return env


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv}
_FUNCS = {"min": min, "max": max}


def evaluate(expr, env):
    """An integer expression over env: literals, names, + - * //, min(), max()."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in env:
                raise HeaderError("unknown name %r in %r" % (node.id, expr))
            return env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in _FUNCS and not node.keywords):
            return _FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise HeaderError("unsupported expression %r" % expr)
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise HeaderError("bad expression %r" % expr) from None
    return ev(tree)


# --- frames ----------------------------------------------------------------

def function_matches(frame_function, wanted):
    """Whether a frame's function is `wanted` (C name, demangled or mangled C++)."""
    if not frame_function:
        return False
    if frame_function == wanted:
        return True
    plain = frame_function
    if plain.startswith("(anonymous namespace)::"):
        plain = plain[len("(anonymous namespace)::"):]
    plain = plain.split("(", 1)[0].strip()
    if plain == wanted or plain.endswith(" " + wanted):  # "void ns::f" forms
        return True
    if frame_function.startswith("_Z"):
        parts = wanted.split("::")
        return all("%d%s" % (len(p), p) in frame_function for p in parts)
    return False


def frame_text(frame):
    return "%s at %s:%s%s" % (frame.get("function"), frame.get("file"), frame.get("line"),
                              " (inlined)" if frame.get("inlined") else "")


def stack_text(stack, n=6):
    return " <- ".join(frame_text(f) for f in (stack or [])[:n]) or "(empty stack)"


def find_frame(stack, function, window):
    """The first frame among the first `window` that names function, or None."""
    for frame in (stack or [])[:window]:
        if function_matches(frame.get("function"), function):
            return frame
    return None


def stack_names(stack, function):
    return any(function_matches(f.get("function"), function) for f in (stack or []))


def report_names(node, function):
    """Whether any stack frame anywhere in the report names function."""
    if isinstance(node, dict):
        if "function" in node and "address" in node and function_matches(node.get("function"),
                                                                          function):
            return True
        return any(report_names(v, function) for v in node.values())
    if isinstance(node, list):
        return any(report_names(v, function) for v in node)
    return False


def check_named(verdict, report, functions, label):
    """A clause that matched nothing must still name functions the report knows: a
    renamed or misspelt function would otherwise pass every "blocks=0"."""
    for fn in functions:
        if fn:
            verdict.check(report_names(report, fn),
                          "%s: some stack of the report names %s" % (label, fn))


# --- the comparison --------------------------------------------------------

class Verdict:
    """Collects check results; failures carry a message."""

    def __init__(self, out=sys.stdout):
        self.passed, self.failed, self.out = 0, 0, out

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print("ok:   %s" % what, file=self.out)
        else:
            self.failed += 1
            print("FAIL: %s" % what, file=self.out)
        return ok


def compare(verdict, actual, op, expected, blocks, what, slack=HEADER_SLACK):
    """One numeric check; `blocks` sets the ~ tolerance (`slack` bytes per block)."""
    if op == "=":
        ok = actual == expected
    elif op == ">=":
        ok = actual >= expected
    elif op == "<=":
        ok = actual <= expected
    else:
        ok = expected <= actual <= expected + slack * blocks
    detail = "%s: %s, expected %s%s" % (what, actual, "" if op == "=" else op, expected)
    if op == "~":
        detail += " (up to +%d)" % (slack * blocks)
    verdict.check(ok, detail)


def split_checks(checks, env):
    """Separates names from numeric checks and evaluates the latter."""
    names, numbers = {}, []
    for key, op, value in checks:
        if key in NAME_KEYS:
            if op != "=":
                raise HeaderError("%s takes '=', not %r" % (key, op))
            names[key] = value
        else:
            numbers.append((key, op, evaluate(value, env)))
    return names, numbers


def numeric_checks(verdict, numbers, totals, label, slack=HEADER_SLACK):
    """Compares summed fields; the ~ tolerance counts the blocks expected (or found)."""
    expected_blocks = [v for k, op, v in numbers if k == "blocks" and op == "="]
    blocks = expected_blocks[0] if expected_blocks else totals.get("blocks", 0)
    for key, op, value in numbers:
        if key not in totals:
            verdict.check(False, "%s: the report has no field %r" % (label, key))
            continue
        compare(verdict, totals[key], op, value, blocks, "%s %s" % (label, key), slack)


def sum_fields(records):
    totals = {}
    for r in records:
        for k, v in r.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                totals[k] = totals.get(k, 0) + v
    return totals


def check_site(verdict, frame, tag_kind, tag, spec, source_name, label):
    """The frame must be at the line marked `/* tag_kind tag */` in the source."""
    line = spec["sites"].get((tag_kind, tag))
    if line is None:
        raise HeaderError("no /* %s %s */ marker in the source" % (tag_kind, tag))
    where = "%s:%d" % (source_name, line)
    if frame is None:
        verdict.check(False, "%s at %s: no frame names the function" % (label, where))
        return
    ok = (os.path.basename(frame.get("file") or "") == source_name
          and frame.get("line") == line)
    verdict.check(ok, "%s at %s (%s)" % (label, where, frame_text(frame)))


def check_finding(verdict, report, names, numbers, spec, source_name, clause, env):
    kind = names.get("kind", "view_pinned")
    view_fn, alloc_fn = names.get("view_function"), names.get("alloc_function")
    holder_fn, owner_fn = names.get("holder_function"), names.get("owner_function")
    window = spec["alloc_window"]
    size = evaluate(names["block_size"], env) if "block_size" in names else None
    if kind in ("dead_region", "owner"):
        analysis = report.get(kind + "_analysis")
        verdict.check(analysis == "complete",
                      "%s_analysis is %r (the clause needs a complete pointer scan)"
                      % (kind, analysis))
    matched = []
    for f in report.get("findings", []):
        if f.get("kind") != kind:
            continue
        if view_fn and not find_frame(f.get("view_stack"), view_fn, VIEW_WINDOW):
            continue
        if alloc_fn and not find_frame(f.get("alloc_stack"), alloc_fn, window):
            continue
        if holder_fn and not find_frame(f.get("holder_alloc_stack"), holder_fn, window):
            continue
        if owner_fn and not find_frame(f.get("owner_stack"), owner_fn, window):
            continue
        if size is not None and not f.get("min_size") == f.get("max_size") == size:
            continue
        matched.append(f)
    label = "finding %s" % kind + (" viewed by %s" % view_fn if view_fn else "")
    if not matched and any(v != 0 for k, op, v in numbers if k == "blocks"):
        print("      findings in the report:", file=verdict.out)
        for f in report.get("findings", []):
            print("        %s %s blocks, %s stack: %s; alloc stack: %s" % (
                f.get("kind"), f.get("blocks"), "owner" if f.get("kind") == "owner" else "view",
                stack_text(f.get("owner_stack" if f.get("kind") == "owner" else "view_stack")),
                stack_text(f.get("alloc_stack"))), file=verdict.out)
    if not matched:
        check_named(verdict, report, (view_fn, alloc_fn, holder_fn, owner_fn), label)
    totals = sum_fields(matched) or {k: 0 for k, _, _ in numbers}
    if matched and kind == "owner":  # offsets are a range: the extremes, not sums
        offsets = [f for f in matched if f.get("ref_offset_min") is not None]
        totals["ref_offset_min"] = min((f["ref_offset_min"] for f in offsets), default=None)
        totals["ref_offset_max"] = max((f["ref_offset_max"] for f in offsets), default=None)
    numeric_checks(verdict, numbers, totals, "%s (%d)" % (label, len(matched)), spec["slack"])
    for f in matched:
        if "view_site" in names:
            check_site(verdict, find_frame(f.get("view_stack"), view_fn, VIEW_WINDOW),
                       "VIEW-SITE", names["view_site"], spec, source_name, label + " view site")
        if "alloc_site" in names:
            check_site(verdict, find_frame(f.get("alloc_stack"), alloc_fn, window),
                       "ALLOC-SITE", names["alloc_site"], spec, source_name,
                       label + " alloc site")
        if "holder_site" in names:
            check_site(verdict, find_frame(f.get("holder_alloc_stack"), holder_fn, window),
                       "ALLOC-SITE", names["holder_site"], spec, source_name,
                       label + " holder site")
        if "owner_site" in names:
            check_site(verdict, find_frame(f.get("owner_stack"), owner_fn, window),
                       "ALLOC-SITE", names["owner_site"], spec, source_name,
                       label + " owner site")


def check_groups(verdict, report, section, names, numbers, what):
    """leak/peak/hotspot: the groups naming function=, or the section's totals."""
    if section is None:
        verdict.check(False, "the report has no %r" % what)
        return
    fn = names.get("function")
    if fn is None:
        numeric_checks(verdict, numbers, sum_fields([section]), what)
        return
    groups = section if isinstance(section, list) else section.get("groups", [])
    matched = [g for g in groups if stack_names(g.get("stack"), fn)]
    if not matched:
        check_named(verdict, report, (fn,), what)
    numeric_checks(verdict, numbers, sum_fields(matched) or {k: 0 for k, _, _ in numbers},
                   "%s groups naming %s (%d)" % (what, fn, len(matched)))


def check_report_shape(verdict, report):
    """What every report must satisfy, whatever the program."""
    verdict.check(report.get("schema") == SCHEMA, "schema is %r" % report.get("schema"))
    logs = report.get("logs", [])
    verdict.check(len(logs) == 1, "one log analysed (%d)" % len(logs))
    for log in logs:
        verdict.check(log.get("truncated") is False,
                      "log %s not truncated" % os.path.basename(str(log.get("path"))))
        anomalies = {k: v for k, v in (log.get("anomalies") or {}).items() if v}
        if anomalies:
            print("note: log anomalies %s" % anomalies, file=verdict.out)
    findings = report.get("findings", [])
    total, owned = 0, 0
    for i, f in enumerate(findings):
        if f.get("kind") == "owner":
            # everything an owner keeps alive, of which block_bytes are of one stack
            owned += f.get("retained_bytes", 0)
            verdict.check(f.get("retained_bytes", -1) >= f.get("block_bytes", 0) > 0 and
                          f.get("owner_blocks", 0) > 0,
                          "finding %d: owner retained >= block > 0, owners > 0" % i)
            continue
        total += f.get("retained_bytes", 0)
        if f.get("kind") == "dead_region":
            # kept blocks are all waste, less what a view_pinned finding counts already
            verdict.check(f.get("used_bytes") == 0 and
                          0 <= f.get("retained_bytes", -1) <= f.get("block_bytes", 0),
                          "finding %d: dead_region used = 0, retained <= block" % i)
            continue
        verdict.check(f.get("retained_bytes") == f.get("block_bytes", 0) - f.get("used_bytes", 0),
                      "finding %d: retained = block - used" % i)
    verdict.check(report.get("retained_bytes") == total,
                  "retained_bytes %s = sum over findings %d" % (report.get("retained_bytes"),
                                                               total))
    if "owned_bytes" in report or owned:
        verdict.check(report.get("owned_bytes") == owned,
                      "owned_bytes %s = sum over owner findings %d"
                      % (report.get("owned_bytes"), owned))


def report_points(spec, variant):
    """The --at values the variant's EXPECT lines need ("end" first)."""
    points = {at for v, at, _, _ in spec["expect"] if applies(v, variant)}
    return sorted(points, key=lambda at: (at != "end", at))


def check_report(report, spec, variant, env, source_name, out=sys.stdout, at=None):
    """Compares a parsed report with the spec's EXPECT lines for variant that
    speak of the report's evaluation point (at, else the report's "at")."""
    verdict = Verdict(out)
    at = at or report.get("at", "end")
    verdict.check(report.get("at") == at, "evaluated at %r (%r)" % (at, report.get("at")))
    check_report_shape(verdict, report)
    for variants, clause_at, (kind, checks), clause in spec["expect"]:
        if not applies(variants, variant) or clause_at != at or kind == "check":
            continue
        print("--    EXPECT %s%s" % ("" if at == "end" else "@%s " % at, clause), file=out)
        names, numbers = split_checks(checks, env)
        if kind == "findings":
            for _, op, value in numbers:
                compare(verdict, len(report.get("findings", [])), op, value, 0, "findings")
        elif kind == "owners":
            owners = [f for f in report.get("findings", []) if f.get("kind") == "owner"]
            if owners or any(v for _, _, v in numbers):
                for f in owners:
                    print("      owner finding: %s blocks of %s, owners %s at %s" % (
                        f.get("blocks"), f.get("min_size"), f.get("owner_blocks"),
                        stack_text(f.get("owner_stack"), 3)), file=out)
            analysis = report.get("owner_analysis")
            verdict.check(analysis == "complete", "owner_analysis is %r" % analysis)
            for _, op, value in numbers:
                compare(verdict, len(owners), op, value, 0, "owner findings")
        elif kind == "finding":
            check_finding(verdict, report, names, numbers, spec, source_name, clause, env)
        elif kind == "leak":
            check_groups(verdict, report, report.get("leaks"), names, numbers, "leaks")
        elif kind == "peak":
            check_groups(verdict, report, report.get("peak"), names, numbers, "peak")
        elif kind == "hotspot":
            check_groups(verdict, report, report.get("hotspots"), names, numbers, "hotspots")
        elif kind == "totals":
            numeric_checks(verdict, numbers, report.get("totals") or {}, "totals")
    for variants, text in spec["pending"]:
        if applies(variants, variant):
            print("pending (not checked): %s" % text, file=out)
    return verdict


# --- running ---------------------------------------------------------------

def run(cmd, env=None):
    """Runs cmd; a run past RUN_TIMEOUT counts as exit status 124 (timeout(1)'s)."""
    try:
        return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, e.stdout or b"",
                                           (e.stderr or b"") + b"\n(timed out)\n")


def analyzer_flags(analyzer):
    """The flags for every analysis (the finding thresholds, pinned when the
    analyzer has the flags: its defaults may move) and those for `report` only."""
    try:
        text = run([analyzer, "report", "--help"])
        helptext = (text.stdout + text.stderr).decode(errors="replace")
    except OSError:
        return [], []
    flags, report_only = [], []
    if "--min-block-size" in helptext:
        flags += ["--min-block-size", "4KiB"]
    if "--max-used-percent" in helptext:
        flags += ["--max-used-percent", "25"]
    if "--max-owner-size" in helptext:
        flags += ["--max-owner-size", "4KiB", "--min-owner-ratio", "64"]
    if not flags:
        print("note: the analyzer has no threshold flags; relying on its defaults")
    if "--top" in helptext:
        report_only += ["--top", "0"]  # every leak group and hot spot, not the first ten
    return flags, report_only


def run_under_shim(verdict, args, cmd, tmpdir, shim_options=""):
    """Runs cmd without and with the shim; returns the logs written."""
    env = dict(os.environ)
    for item in args.env:
        name, _, value = item.partition("=")
        env[name] = value
    if args.interpreter:
        cmd = [args.interpreter] + cmd
    plain = run(cmd, dict(env))
    env["LD_PRELOAD"] = os.path.abspath(args.shim) + (
        " " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env["SLICELEAK_OPTIONS"] = "output=%s/x.%%p.sllog:quiet=1" % tmpdir + (
        ":" + shim_options if shim_options else "")
    traced = run(cmd, env)
    verdict.check(plain.returncode == 0, "exit status without the shim is 0 (%d)"
                  % plain.returncode)
    verdict.check(traced.returncode == plain.returncode,
                  "same exit status under the shim (%d, %d)" % (plain.returncode,
                                                                traced.returncode))
    verdict.check(traced.stdout == plain.stdout, "same stdout under the shim")
    if traced.stdout != plain.stdout:
        print("  without: %r\n  with:    %r" % (plain.stdout[:300], traced.stdout[:300]))
    if traced.stderr:
        sys.stdout.write("stderr under the shim:\n" + traced.stderr.decode(errors="replace"))
    # An exec'd image writes NAME.sllog.1 beside NAME.sllog: take every log.
    return sorted(glob.glob(os.path.join(tmpdir, "*.sllog*")))


def analyse(verdict, args, spec, variant, env, source_name, tmpdir, logs, flags, at):
    """Runs `sliceleak report --format json --at AT` and checks its report."""
    rep = run([args.analyzer, "report", "--format", "json", "--at", at] + flags[0] + flags[1]
              + logs)
    if rep.stderr:
        sys.stdout.write(rep.stderr.decode(errors="replace"))
    if not verdict.check(rep.returncode == 0, "analyzer --at %s exit status 0 (%d)"
                         % (at, rep.returncode)):
        return
    try:
        report = json.loads(rep.stdout)
    except ValueError as e:
        verdict.check(False, "the analyzer's output is JSON (%s)" % e)
        return
    if args.keep:
        with open(os.path.join(tmpdir, "report.%s.json" % at), "wb") as f:
            f.write(rep.stdout)
    sub = check_report(report, spec, variant, env, source_name, at=at)
    verdict.passed += sub.passed
    verdict.failed += sub.failed


def gate(verdict, args, spec, variant, env, logs, flags):
    """Runs `sliceleak check` for each check clause and compares its exit status."""
    for variants, _, (kind, checks), clause in spec["expect"]:
        if kind != "check" or not applies(variants, variant):
            continue
        print("--    EXPECT %s" % clause)
        _, numbers = split_checks(checks, env)
        values = {k: v for k, _, v in numbers}
        cmd = [args.analyzer, "check"]
        for key in ("max_retained", "max_leaked", "max_owned"):
            if key in values:
                cmd += ["--" + key.replace("_", "-"), "%dB" % values[key]]
        res = run(cmd + flags[0] + logs)
        verdict.check(res.returncode == values["status"], "sliceleak check exit status %d, "
                      "expected %d" % (res.returncode, values["status"]))
        last = (res.stdout.decode(errors="replace").rstrip("\n").split("\n") or [""])[-1]
        verdict.check(last.startswith("SUMMARY: sliceleak: "), "last line %r" % last)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", required=True, help="the program's source file")
    ap.add_argument("--shim", help="libsliceleak.so")
    ap.add_argument("--analyzer", help="the sliceleak executable")
    ap.add_argument("--report", help="compare this JSON report instead of running")
    ap.add_argument("--keep", action="store_true", help="keep the logs and the report")
    ap.add_argument("--interpreter", help="run INTERPRETER PROG VARIANT [N...]")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in the program's environment (repeatable)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- PROG VARIANT [N...]")
    args = ap.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if len(cmd) < 2 or not (args.report or (args.shim and args.analyzer)):
        ap.print_usage(sys.stderr)
        return 2

    with open(args.source, encoding="utf-8") as f:
        spec = parse_header(f.read())
    lint_spec(spec)
    variant, numbers = cmd[1], cmd[2:]
    env = bind_params(spec, numbers)
    if not any(applies(v, variant) for v, _, _, _ in spec["expect"]):
        raise HeaderError("no EXPECT line for variant %r" % variant)
    source_name = os.path.basename(args.source)
    print("== %s (%s)" % (" ".join(cmd), ", ".join("%s=%d" % kv for kv in sorted(env.items()))))

    if args.report:
        with open(args.report, encoding="utf-8") as f:
            verdict = check_report(json.load(f), spec, variant, env, source_name)
        for v, _, (kind, _), clause in spec["expect"]:
            if kind == "check" and applies(v, variant):
                print("not checked (needs the analyzer): %s" % clause)
    else:
        tmpdir = tempfile.mkdtemp(prefix="sliceleak-pattern-")
        verdict = Verdict()
        logs = run_under_shim(verdict, args, cmd, tmpdir, spec["shim_options"])
        if verdict.check(len(logs) >= 1, "log written (%d)" % len(logs)):
            flags = analyzer_flags(args.analyzer)
            for at in report_points(spec, variant):
                analyse(verdict, args, spec, variant, env, source_name, tmpdir, logs, flags, at)
            gate(verdict, args, spec, variant, env, logs, flags)
        if args.keep or verdict.failed:
            print("logs kept in %s" % tmpdir)
        else:
            for path in glob.glob(os.path.join(tmpdir, "*")):
                os.unlink(path)
            os.rmdir(tmpdir)
    print("%d passed, %d failed" % (verdict.passed, verdict.failed))
    return 1 if verdict.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HeaderError as e:
        print("check_verdict: %s" % e, file=sys.stderr)
        sys.exit(2)
