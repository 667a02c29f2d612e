#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Verdicts and a summary for zdtm runs (tests/zdtm/run.sh).

  summarize.py verdict TEST RC LOG   one zdtm.py run of TEST: prints
                                     VERDICT<TAB>STAGE<TAB>FIRST ERROR
  summarize.py split LOG             a whole "zdtm.py run -a" log: one
                                     TEST<TAB>VERDICT<TAB>STAGE<TAB>ERROR a test
  summarize.py summary RESULTS KNOWN counts, failures grouped by first error,
                                     and failures not in KNOWN ("none": no list);
                                     exits 1 when there is such a failure
  summarize.py known RESULTS         the failures (not the hangs) as lines for
                                     a known-failures list, reason = first error

VERDICT is PASS, FAIL, HANG (the time limit ran out), SKIP (zdtm skipped the
test; STAGE empty, the reason as the error) or ERROR (zdtm itself failed).
Error lines matching the regular expression in $ZDTM_NOISE are passed over
when looking for the first error (e.g. a warning every run of a criu logs).
"""
import ast
import fnmatch
import os
import re
import sys

TIMEOUT_CODES = (124, 137)


def log_text(line):
    """zdtm prints criu's log lines as Python bytes literals: undo that."""
    line = line.rstrip('\n')
    if line[:2] in ("b'", 'b"'):
        try:
            return ast.literal_eval(line).decode('utf-8', 'replace')
        except (ValueError, SyntaxError):
            pass
    return line


def strip_stamp(line):
    """Drop a log line's "(00.123456) " time stamp."""
    return re.sub(r'^\(\s*[0-9]+\.[0-9]+\)\s*', '', line).strip()


def criu_log_blocks(lines):
    """The "grep Error" blocks zdtm prints after each criu action, in order,
    as (log file, [lines])."""
    blocks, cur, logname = [], None, ''
    for line in lines:
        m = re.match(r'^=\[log\]=> (\S+)', line)
        if m:
            logname = m.group(1)
        elif re.match(r'^-+ grep Error( \(no\))? -+$', line):
            cur = (logname, [])
            blocks.append(cur)
        elif re.match(r'^-+ ERROR OVER -+$', line):
            cur = None
        elif cur is not None:
            cur[1].append(strip_stamp(log_text(line)))
    return blocks


def first_error_in(block_lines):
    noise = os.environ.get('ZDTM_NOISE')
    for line in block_lines:
        if not re.search(r'\bError\b', line):
            continue
        if noise and re.search(noise, line):
            continue
        return line
    tail = [l for l in block_lines if l and not (noise and re.search(noise, l))]
    return tail[-1] if tail else ''


def test_output(lines):
    """What the test program wrote: its .out and .out.inprogress files."""
    out, inside = [], False
    for line in lines:
        if line.startswith('Test output: ===='):
            inside = True
        elif line.startswith(' <<< ===='):
            inside = False
        elif re.match(r'^=+ \S+\.out\.inprogress =+$', line):
            inside = not inside
        elif inside and line.strip():
            out.append(line.strip())
    return out


def criu_said(lines):
    """(action, what the last criu run printed to its stdout and stderr):
    the lines between zdtm's "Run criu ACTION" and its next own output."""
    action, said, listening = '', [], False
    for line in lines:
        m = re.match(r'^Run criu (\S+)', line)
        if m:
            action, said, listening = m.group(1), [], True
        elif re.match(r'^(=\[log\]=>|Traceback|[=#-]{3}|Send the |Running |Wait for )', line):
            listening = False
        elif listening and line.strip():
            said.append(line.strip())
    return action, said


def failure_cause(stage, lines):
    """The first error behind a failure at @stage."""
    blocks = criu_log_blocks(lines)
    if re.match(r'(?i)criu ', stage):
        err = first_error_in(blocks[-1][1]) if blocks else ''
        if not re.search(r'\bError\b', err):
            said = criu_said(lines)[1]
            err = said[0] if said else err
        return err or stage
    if stage.startswith('result check') or stage.startswith('test failed'):
        out = test_output(lines)
        for line in out:
            if re.search(r'FAIL|ERR|[Ff]ail|[Ee]rror', line) and not re.search(r'\bPASS\b', line):
                return re.sub(r'^[0-9:.]+:\s+[0-9]+: ', '', line)
        return out[-1] if out else stage + ': the program wrote no verdict (did it die?)'
    for line in lines:
        if re.search(r'Error|Exception', line):
            return line.strip()
    return stage


def verdict(test, rc, lines):
    """(VERDICT, STAGE, FIRST ERROR) of one test's zdtm output."""
    name = re.escape(test)
    for line in lines:
        if re.search(r'Test %s PASS\b' % name, line):
            return ('PASS', '', '')
        m = re.search(r'Test %s FAIL at (.*?) #+$' % name, line)
        if m:
            return ('FAIL', m.group(1), failure_cause(m.group(1), lines))
        m = re.match(r'^Skipping %s \((.*)\)$' % name, line)
        if m:
            return ('SKIP', '', m.group(1))
    # zdtm gives up on a criu after a minute with a TimeoutExpired traceback.
    if rc in TIMEOUT_CODES or any('TimeoutExpired' in l for l in lines):
        actions = [m.group(1) for m in (re.match(r'^Run criu (\S+)', l) for l in lines) if m]
        where = 'criu %s' % actions[-1] if actions else 'the test'
        return ('HANG', where, '%s did not finish in time' % where)
    # zdtm itself broke, often over something the criu did (no log file):
    # name what that criu printed, then zdtm's complaint.
    action, said = criu_said(lines)
    rest = [l.strip() for l in lines if l.strip() and not l.startswith('+ ')]
    errs = [l for l in rest if re.search(r'Error|Exception|error:', l)]
    complaint = (errs or rest or ['no output'])[-1]
    if action and said:
        return ('ERROR', 'criu ' + action, '%s (zdtm: %s)' % (said[0], complaint))
    return ('ERROR', 'zdtm', complaint)


def clean(field):
    return re.sub(r'[\t\r\n]+', ' ', field)[:300]


def row(fields):
    return '\t'.join(clean(f) for f in fields)


def cmd_verdict(test, rc, path):
    with open(path, errors='replace') as f:
        lines = f.read().splitlines()
    print(row(verdict(test, int(rc), lines)))
    return 0


def cmd_split(path):
    """Results of one "zdtm.py run -a --keep-going" log."""
    with open(path, errors='replace') as f:
        lines = f.read().splitlines()
    chunks, cur = {}, None
    for line in lines:
        m = re.match(r'^=== Run [0-9]+/[0-9]+ [=-]+ (\S+)', line)
        if m:
            cur = m.group(1)
            chunks.setdefault(cur, [])
            continue
        m = re.match(r'^Skipping (\S+) \((.*)\)$', line)
        if m:
            print(row((m.group(1), 'SKIP', '', m.group(2))))
            continue
        if cur:
            chunks[cur].append(line)
    for test, body in chunks.items():
        v = verdict(test, 0, body)
        if v[0] == 'ERROR' and not any('Test %s' % test in l for l in body):
            v = ('HANG', 'unfinished', 'the log ends before its verdict')
        print(row((test,) + v))
    return 0


def normalize(err, test):
    """A first error with what differs between tests and runs taken out (the
    test's name, pids, addresses, CRIU's source positions), for grouping."""
    err = err.replace(test, 'TEST')
    err = re.sub(r'(?<![\w-])%s(?![\w-])' % re.escape(test.rsplit('/', 1)[-1]), 'TEST', err)
    err = re.sub(r'^(Error|Warn)\s*\([^)]*\):', r'\1:', err)
    err = re.sub(r'0x[0-9a-fA-F]+', '0xN', err)
    err = re.sub(r'[0-9]{2,}', 'N', err)
    return err


def load_known(path):
    known = []
    if path == 'none':
        return known
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                pat, _, why = line.partition(' ')
                known.append((pat, why.strip()))
    return known


def known_reason(test, known):
    for pat, why in known:
        if fnmatch.fnmatchcase(test, pat) or fnmatch.fnmatchcase(test, 'zdtm/static/' + pat):
            return why or 'listed'
    return None


def cmd_summary(results, known_path):
    known = load_known(known_path)
    rows = []
    with open(results) as f:
        for line in f:
            fields = line.rstrip('\n').split('\t') + ['', '', '']
            rows.append(fields[:4])
    count = {}
    for _, v, _, _ in rows:
        count[v] = count.get(v, 0) + 1
    print('zdtm: %d tests: %d passed, %d failed, %d hung, %d skipped, %d zdtm errors' %
          (len(rows), count.get('PASS', 0), count.get('FAIL', 0), count.get('HANG', 0),
           count.get('SKIP', 0), count.get('ERROR', 0)))

    groups = {}
    for test, v, stage, err in rows:
        if v in ('FAIL', 'HANG', 'ERROR'):
            key = '%s at %s: %s' % (v, stage, normalize(err, test))
            groups.setdefault(key, []).append(test)
    if groups:
        print('\nFailures by first error (tests):')
        for key, tests in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print('%4d  %s' % (len(tests), key))
            print('        ' + ' '.join(t.replace('zdtm/static/', '') for t in tests))

    unexpected = [r for r in rows
                  if r[1] == 'HANG' or (r[1] in ('FAIL', 'ERROR') and not known_reason(r[0], known))]
    fixed = [r[0] for r in rows if r[1] == 'PASS' and known_reason(r[0], known)]
    skipped = [r for r in rows if r[1] == 'SKIP']
    if skipped:
        print('\nSkipped by zdtm:')
        for test, _, _, why in skipped:
            print('      %s (%s)' % (test, why))
    if fixed:
        print('\nListed as known failures but passed (take them off the list):')
        print('      ' + ' '.join(fixed))
    if unexpected:
        print('\nUnexpected failures (a hang always is one):')
        for test, v, stage, err in unexpected:
            print('      %s  %s at %s: %s' % (test, v, stage, err))
        return 1
    print('\nNo unexpected failures.')
    return 0


def cmd_known(results):
    with open(results) as f:
        rows = [(line.rstrip('\n').split('\t') + ['', '', ''])[:4] for line in f]
    for test, v, stage, err in rows:
        if v in ('FAIL', 'ERROR'):
            name = test.replace('zdtm/static/', '')
            print('%-30s %s at %s: %s' % (name, v, stage, err.replace('#', '')))
    return 0


def main(argv):
    cmds = {'verdict': (cmd_verdict, 3), 'split': (cmd_split, 1), 'summary': (cmd_summary, 2),
            'known': (cmd_known, 1)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        sys.stderr.write(__doc__)
        return 2
    return cmds[argv[1]][0](*argv[2:])


if __name__ == '__main__':
    sys.exit(main(sys.argv))
