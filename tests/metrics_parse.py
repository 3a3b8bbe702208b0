# SPDX-License-Identifier: BSD-3-Clause
# nbdkit-fleece: a strict parser of the metrics text formats that
# fleecectl prints (status --format openmetrics|prometheus), for the
# tests (PYTHONPATH=$srcdir).  It rejects what a scraper could reject:
#
# - every line ends with a newline; no blank lines; OpenMetrics ends
#   with "# EOF" and nothing after it, the classic format has none;
# - comments are "# TYPE NAME TYPE" and "# HELP NAME TEXT" only, once
#   per family, before its samples; a family's samples are contiguous;
# - metric names [a-zA-Z_:][a-zA-Z0-9_:]*, with our prefix; label names
#   [a-zA-Z_][a-zA-Z0-9_]*; label values quoted, escapes \\ \" \n only;
#   values numbers (or NaN, +Inf, -Inf);
# - every sample belongs to a family declared by # TYPE: a counter's
#   samples are NAME_total and its family NAME (OpenMetrics) or
#   NAME_total (classic); a gauge's are its family's name;
# - no series twice.
#
# parse(text, openmetrics) returns {(sample name, ((label, value),
# ...)): float, ...} and the families {name: type}, or raises
# MetricsError naming the line.

import re

PREFIX = "nbdkit_fleece_"
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
SAMPLE = re.compile(r"(%s)(?:\{((?:%s=%s)(?:,%s=%s)*)?\})? (%s|NaN|[-+]Inf)$"
                    % (NAME, LABEL, VALUE, LABEL, VALUE, NUMBER))
PAIR = re.compile(r"(%s)=(%s)" % (LABEL, VALUE))
TYPES = ("counter", "gauge")


class MetricsError(Exception):
    pass


def unescape(v):
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), v[1:-1])


class Parser:
    def __init__(self, openmetrics):
        self.om = openmetrics
        self.types, self.helps, self.samples = {}, {}, {}
        self.current = None     # the family whose lines come now
        self.done = set()       # families whose lines have ended

    def enter(self, family, n):
        if family != self.current:
            if family in self.done:
                raise MetricsError("line %d: family %s again, not contiguous"
                                   % (n, family))
            if self.current is not None:
                self.done.add(self.current)
            self.current = family

    def comment(self, line, n):
        m = re.fullmatch(r"# (TYPE|HELP) (%s) (.+)" % NAME, line)
        if m is None:
            raise MetricsError("line %d: not a TYPE or HELP line: %r"
                               % (n, line))
        kind, family, rest = m.groups()
        self.enter(family, n)
        seen = self.types if kind == "TYPE" else self.helps
        if family in seen:
            raise MetricsError("line %d: second %s for %s" % (n, kind, family))
        if family in self.samples_of():
            raise MetricsError("line %d: %s after samples" % (n, kind))
        if kind == "TYPE" and rest not in TYPES:
            raise MetricsError("line %d: type %r" % (n, rest))
        if kind == "TYPE" and rest == "counter" and \
           self.om == family.endswith("_total"):
            raise MetricsError("line %d: counter family %s: %s _total" %
                               (n, family, "no" if self.om else "needs"))
        seen[family] = rest

    def samples_of(self):
        return {k[2] for k in self.samples}

    def family_of(self, name, n):
        for family, t in self.types.items():
            want = family + "_total" if t == "counter" and self.om else family
            if name == want:
                return family
        raise MetricsError("line %d: sample %s has no # TYPE" % (n, name))

    def sample(self, line, n):
        m = SAMPLE.match(line)
        if m is None:
            raise MetricsError("line %d: malformed sample: %r" % (n, line))
        name, labels, value = m.groups()
        if not name.startswith(PREFIX):
            raise MetricsError("line %d: %s lacks %s" % (n, name, PREFIX))
        if self.types.get(name) == "counter" and not name.endswith("_total"):
            raise MetricsError("line %d: counter %s lacks _total" % (n, name))
        family = self.family_of(name, n)
        self.enter(family, n)
        pairs = tuple((k, unescape(v)) for k, v in
                      PAIR.findall(labels or ""))
        if len({k for k, _ in pairs}) != len(pairs):
            raise MetricsError("line %d: a label twice" % n)
        key = (name, pairs, family)
        if key in self.samples:
            raise MetricsError("line %d: series twice: %s" % (n, line))
        self.samples[key] = float(value)


def parse(text, openmetrics):
    if not text.endswith("\n"):
        raise MetricsError("the last line has no newline")
    lines = text[:-1].split("\n")
    if openmetrics:
        if lines[-1] != "# EOF":
            raise MetricsError("OpenMetrics must end with # EOF: %r"
                               % lines[-1])
        lines = lines[:-1]
    p = Parser(openmetrics)
    for n, line in enumerate(lines, 1):
        if line == "# EOF":
            raise MetricsError("line %d: # EOF %s" % (n, "before the end"
                               if openmetrics else "in the classic format"))
        if line.startswith("#"):
            p.comment(line, n)
        else:
            p.sample(line, n)
    return ({(k[0], k[1]): v for k, v in p.samples.items()}, p.types)


# Malformed inputs that parse must reject (the tests check it does).
BAD = [
    "nbdkit_fleece_x 1\n# EOF\n",                       # no TYPE
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x 1\n",  # no EOF
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x 1\n# EOF",  # no \n
    "# TYPE nbdkit_fleece_x gauge\n\nnbdkit_fleece_x 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x one\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x{d=\"a} 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x{d=\"\\t\"} 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x{1d=\"a\"} 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x{d=\"a\",d=\"b\"} 1\n"
    "# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x 1\nnbdkit_fleece_x 2\n"
    "# EOF\n",
    "# TYPE nbdkit_fleece_x counter\nnbdkit_fleece_x 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x_total counter\nnbdkit_fleece_x_total 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\n# TYPE nbdkit_fleece_x gauge\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x 1\n# HELP nbdkit_fleece_x"
    " late\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\n# TYPE nbdkit_fleece_y gauge\n"
    "nbdkit_fleece_x 1\nnbdkit_fleece_y 1\nnbdkit_fleece_x{a=\"b\"} 1\n"
    "# EOF\n",
    "# TYPE nbdkit_fleece_x histogram\n# EOF\n",
    "# comment\n# EOF\n",
    "# TYPE other_x gauge\nother_x 1\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x 1\n# EOF\n# EOF\n",
    "# TYPE nbdkit_fleece_x gauge\nnbdkit_fleece_x  1\n# EOF\n",
]
