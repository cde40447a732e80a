#!/usr/bin/env python3
"""The time and memory of the largest specs mlship accepts, along each limit.

    cargo build --profile dist && python3 bench/limits.py [MLSHIP] > bench/limits.md

Writes each spec to a temporary folder, runs `mlship check` and then `mlship build` (into a
fresh folder, after `sync`) under GNU time, and prints a Markdown table: wall time, CPU time
(user + system, which another process on the machine does not inflate) and peak resident
memory of each. The limits are those of docs/security.md: the parse limits and entry counts
(compiler/src/syntax/mod.rs) and the bounds on what the environments ask for together
(compiler/src/work.rs). Every spec here is within all of them, and at or next to one.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

MLSHIP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/dist/mlship")
MIB = 1 << 20


def head(images=2):
    s = ['apiVersion: mlship/v1', 'project: lim', 'registry: ghcr.io/acme/lim', 'kubernetes: "1.33"', 'tag: "1.0.0"',
         'images:', '  trainer: {stack: xgboost}', '  server: {stack: fastapi}']
    s += [f'  i{i}: {{stack: fastapi, command: [python, -m, app{i}]}}' for i in range(images - 2)]
    return s


def services(n):
    return ['services:'] + [
        f'  s{i}: {{image: server, port: 8080, cpu: 250m, memory: 512Mi, autoscale: {{min: 2, max: 10, cpu: 70}}}}'
        for i in range(n)]


def steps(n):
    out = ['pipelines:']
    for p in range((n + 9) // 10):
        out.append(f'  p{p}:\n    steps:')
        for i in range(min(10, n - p * 10)):
            needs = f', needs: [s{i - 1}]' if i else ''
            out.append(f'      s{i}: {{image: trainer, run: [python, -m, step{i}], cpu: "1", memory: 2Gi{needs}}}')
    return out


def environments(n):
    return ['environments:'] + [f'  e{e}: {{namespace: lim-e{e}, tag: t{e}}}' for e in range(n)] if n else []


def command(n):
    """One service whose command has `n` arguments: a value each, in every Deployment."""
    return ['services:', '  s: {image: server, port: 8080, command: [' + ', '.join(['x'] * n) + ']}']


def config(n, width=0):
    value = 'v' * width
    return ['config:'] + [f'  K{i}: {value or "v"}{i}' for i in range(n)]


def patches(n):
    return ['patches:'] + [
        f'  - {{kind: Deployment, name: lim-s{i}, patch: {{spec: {{minReadySeconds: 5}}}}}}' for i in range(n)]


def overrides(n, envs):
    """`envs` environments, each setting the CPU of services s0 to s<n-1>."""
    out = ['environments:']
    for e in range(envs):
        out += [f'  e{e}:', f'    namespace: lim-e{e}', '    services:']
        out += [f'      s{i}: {{cpu: 500m}}' for i in range(n)]
    return out


def config_overrides(n, envs):
    out = ['environments:']
    for e in range(envs):
        out += [f'  e{e}:', f'    namespace: lim-e{e}', '    config:']
        out += [f'      K{i}: w{i}' for i in range(n)]
    return out


def wide_services(n, args):
    """`n` services, each with a command of `args` arguments of 18 characters."""
    command = ', '.join(f'--argument-{j:05d}=x' for j in range(args))
    return ['services:'] + [f'  s{i}: {{image: server, port: 8080, command: [{command}]}}' for i in range(n)]


def spec(*parts):
    return '\n'.join(line for part in parts for line in part) + '\n'


def kdl_command(n):
    return 'apiVersion "mlship/v1"\nproject "lim"\nregistry "ghcr.io/acme/lim"\ntag "1.0.0"\nimages "server" stack="fastapi"\n' \
        'services "s" image="server" port=8080 {\n    command' + ' "x"' * n + '\n}\n'


def kdl_config(n, width):
    value = 'v' * width
    return 'apiVersion "mlship/v1"\nproject "lim"\nregistry "ghcr.io/acme/lim"\ntag "1.0.0"\nimages "server" stack="fastapi"\n' \
        'services "s" image="server" port=8080\nconfig {\n' + ''.join(f'    K{i} "{value}{i}"\n' for i in range(n)) + '}\n'


CASES = [
    # (what, file name, text)
    ('16 MiB of YAML (250 strings of 64 KiB)', 'mlship.yaml', spec(head(), services(1), config(250, 64 * 1024 - 16))),
    ('1 MiB of KDL, its limit (15 strings of 64 KiB)', 'mlship.kdl', kdl_config(15, 64 * 1024 - 16)),
    ('1,000,000 values (YAML: a command of 999,900 arguments)', 'mlship.yaml', spec(head(), command(999_900))),
    ('1 MiB of KDL values (a command of 260,000 arguments)', 'mlship.kdl', kdl_command(260_000)),
    ('1,000 images', 'mlship.yaml', spec(head(1000), services(1))),
    ('20,000 services', 'mlship.yaml', spec(head(), services(20_000))),
    ('20,000 steps', 'mlship.yaml', spec(head(), steps(20_000))),
    ('100 environments', 'mlship.yaml', spec(head(), services(10), steps(10), environments(100))),
    ('1,000 images, 20,000 services and 20,000 steps', 'mlship.yaml',
     spec(head(1000), services(20_000), steps(20_000))),
    ('100,000 workloads: 20,000 services in 5 environments', 'mlship.yaml',
     spec(head(), services(20_000), environments(5))),
    ('100,000 workloads: 1,000 services in 100 environments', 'mlship.yaml',
     spec(head(), services(1_000), environments(100))),
    ('100,000 workloads: 10,000 services and 10,000 steps in 5 environments', 'mlship.yaml',
     spec(head(), services(10_000), steps(10_000), environments(5))),
    ('5,000,000 values: 49,900 config values in 100 environments', 'mlship.yaml',
     spec(head(), services(1), config(49_900), environments(100))),
    ('5,000,000 values: a command of 990,000 arguments in 5 environments', 'mlship.yaml',
     spec(head(), command(990_000), environments(5))),
    ('256 MiB of text: 16 MiB of config in 16 environments', 'mlship.yaml',
     spec(head(), services(1), config(250, 64 * 1024 - 16), environments(16))),
    ('10,000 patches: 100 patches of 100 services in 100 environments', 'mlship.yaml',
     spec(head(), services(100), patches(100), environments(100))),
    ('5 environments, each overriding every one of 20,000 services', 'mlship.yaml',
     spec(head(), services(20_000), overrides(20_000, 5))),
    ('2 environments, each setting every one of 240,000 config keys', 'mlship.yaml',
     spec(head(), services(1), config(240_000), config_overrides(240_000, 2))),
    ('All at once: 1,000 images and 20,000 services of 36 arguments in 5 environments (14 MiB)', 'mlship.yaml',
     spec(head(1000), wide_services(20_000, 36), environments(5))),
]


def timed(args, cwd):
    out = subprocess.run(['/usr/bin/time', '-v'] + args, cwd=cwd, capture_output=True, text=True)
    t = out.stderr
    def field(name):
        return re.search(re.escape(name) + r': (.*)', t).group(1).strip()
    wall = field('Elapsed (wall clock) time (h:mm:ss or m:ss)')
    parts = [float(x) for x in wall.split(':')]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field('User time (seconds)')) + float(field('System time (seconds)'))
    rss = int(field('Maximum resident set size (kbytes)')) / 1024
    status = int(field('Exit status'))
    last = [l for l in t.splitlines() if l and not l.startswith('\t') and 'Command' not in l]
    return seconds, cpu, rss, status, (last[-1] if last else '')


def fmt(seconds, cpu, rss):
    return f'{seconds:.1f} s ({cpu:.1f} s CPU), {rss:,.0f} MB'


def main():
    cpu = subprocess.run(['sh', '-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    mem = int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024
    version = subprocess.run([MLSHIP, '--version'], capture_output=True, text=True).stdout.strip()
    print(f'Machine: {os.cpu_count()} cores, {cpu}, {mem} GB. {version}, release build. '
          'One run each of `python3 bench/limits.py`; wall time, CPU time (user + system) and peak memory (GNU time).')
    print()
    print('| spec | size | check | build (fresh folder) | files written |')
    print('|---|---|---|---|---|')
    for what, name, text in CASES:
        d = tempfile.mkdtemp(prefix='mlship-limits-')
        try:
            pathlib.Path(d, name).write_text(text)
            size = len(text.encode())
            c = timed([MLSHIP, 'check', name], d)
            subprocess.run(['sync'])
            b = timed([MLSHIP, 'build', name], d)
            if b[3] != 0:
                sys.exit(f'{what}: build failed: {b[4]}')
            files = sum(len(f) for _, _, f in os.walk(os.path.join(d, 'deploy')))
            shown = f'{size / MIB:.1f} MiB' if size >= MIB else f'{size / 1024:.0f} KiB'
            print(f'| {what} | {shown} | {fmt(*c[:3])} | {fmt(*b[:3])} | {files:,} |', flush=True)
        finally:
            shutil.rmtree(d)


if __name__ == '__main__':
    main()
