#!/usr/bin/env python3
# A stand-in for CRIU's test/zdtm.py in zdtm_runner.bats: "list -i" and
# "run -t TEST ..." print, for a few made-up tests, output shaped like
# zdtm's (separators, criu log excerpts as bytes literals, verdict lines).
import os
import sys
import time


def sep(title, ch='='):
    print((' ' + title + ' ').center(80, ch))


def log_block(path, lines):
    print('=[log]=> ' + path)
    sep('grep Error', '-')
    for line in lines:
        print(repr(line.encode()))
    sep('ERROR OVER', '-')


def run(test):
    name = test.rsplit('/', 1)[-1]
    if name == 'absent':
        print('Skipping %s (no frobnicate feature)' % test)
        return 0
    print('=== Run 1/1 ================ ' + test)
    sep('Run %s in h' % test)
    print('Start test')
    print('Run criu dump')
    if name == 'good':
        sep('Test %s PASS' % test)
        return 0
    if name == 'dumpfail':
        log_block('dump/%s/66/1/dump.log' % test, [
            '(00.000010) Warn  (criu/kerndat.c:7): harmless noise Error mentioned',
            '(00.000020) Dumping processes (pid: 4242)',
            '(00.000030) Error (criu/cr-dump.c:42): cannot dump task 4242: no vDSO',
            '(00.000040) Error (criu/cr-dump.c:99): Dumping FAILED.'])
        sep('Test %s FAIL at CRIU dump' % test, '#')
        return 1
    if name == 'wrongstate':
        log_block('dump/%s/66/1/dump.log' % test, ['(00.000010) Warn  (x.c:1): a warning'])
        print('Run criu restore')
        sep('Test %s FAIL at result check' % test, '#')
        print('Test output: ' + '=' * 32)
        print('12:00:00.000:    66: ERR: wrongstate.c:12: value lost (errno = 2 (No such file or directory))')
        print('\n <<< ' + '=' * 32)
        return 1
    if name == 'nolog':
        print('ocicr: dump: not supported by ocicr yet: --bogus')
        print('Traceback (most recent call last):')
        print('  File "zdtm.py", line 1, in grep_errors')
        print("FileNotFoundError: [Errno 2] No such file or directory: 'dump/%s/66/1/dump.log'" % test)
        sep('FAIL', '#')
        return 1
    if name == 'slowcriu':
        print('Run criu dump')
        print('Traceback (most recent call last):')
        print("subprocess.TimeoutExpired: Command '['criu', 'dump']' timed out after 60 seconds")
        return 1
    if name == 'stuck':
        log_block('dump/%s/66/1/dump.log' % test, [])
        print('Run criu restore', flush=True)
        os.execvp('bash', ['bash', '-c', 'exec -a zdtm_fake_sleeper sleep 60'])
    print('unknown test ' + test)
    return 1


def main():
    args = sys.argv[1:]
    if args[:2] == ['list', '-i']:
        print('%-40s%-10s%s' % ('Name', 'Flavors', 'Flags'))
        print('%-40s%-10s%s' % ('zdtm/lib/groups', '', 'noauto'))
        print('%-40s%-10s%s' % ('zdtm/static/good', '', ''))
        print('%-40s%-10s%s' % ('zdtm/static/nsonly', 'ns uns', 'suid'))
        print('%-40s%-10s%s' % ('zdtm/static/manual', 'h', 'noauto suid'))
        print('%-40s%-10s%s' % ('zdtm/static/hostonly', 'h', 'excl'))
        return 0
    with open('args', 'w') as f:
        f.write(' '.join(args) + '\n')
    with open('fds', 'w') as f:
        f.write(' '.join(sorted(os.listdir('/proc/self/fd'), key=int)) + '\n')
    return run(args[args.index('-t') + 1])


sys.stdout.reconfigure(line_buffering=True)
sys.exit(main())
