// The .apk packages (apk-tools v3 "ADB", OpenWrt 25.12). Our writer against
// the reference packages the real apk-tools 3.0.5 made, byte for byte
// (../shared/fixtures/apk); our reader against apk's own dumps of them; then
// our two packages read back field by field, against the .ipk and the SDK
// Makefiles, and rebuilt byte-identically.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { compress, mkpkg, readTree, type PackageSpec } from '../../build/apk/mkpkg.ts';
import { addPackageFiles, apkScripts } from '../../build/apk/openwrt.ts';
import { readApk, type ApkPackage, type Field } from '../../build/apk/read.ts';
import { PACKAGE, type Kind, type Schema } from '../../build/apk/schema.ts';
import { SHARED } from '../lib/fixtures.ts';
import { LICENSE, MAINTAINER, PACKAGES, PKG_VERSION, SOURCE, URL } from '../lib/packages.ts';
import { member, readTar } from '../lib/tar.ts';

const ROOT = process.cwd();
const REF = join(SHARED, 'apk');
const EPOCH = 1700000000;
const tmp = mkdtempSync(join(tmpdir(), `vpnpt-apk-${process.pid}-`));
const ref = (path: string) => readFileSync(join(REF, 'packages', path));
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

test.after(() => rmSync(tmp, { recursive: true, force: true }));

// --- the reference package: input tree and fields as in the fixture's README ---

const input = join(tmp, 'input');

mkdirSync(input);
execFileSync('tar', ['-xzf', join(REF, 'input/hello-ref-input.tar.gz'), '-C', input]);

const HELLO_INFO: [string, string][] = [
  ['name', 'hello-ref'],
  ['version', '1.2.3-r1'],
  ['description', 'Reference package for byte-for-byte comparison of apk v3 packers with OpenWrt 25.12 (include/package-pack.mk).'],
  ['arch', 'noarch'],
  ['license', 'MIT'],
  ['origin', 'package/hello-ref'],
  ['url', 'https://example.org/hello-ref'],
  ['maintainer', 'Jane Doe <jane@example.org>'],
  ['provides', 'hello-ref-any'],
  ['depends', 'libc nftables'],
];

function hello(tree = join(input, 'ipkg-all/hello-ref'), info = HELLO_INFO): PackageSpec {
  const script = (name: string) => readFileSync(join(input, 'apk-all/hello-ref', name));

  return {
    info,
    scripts: { 'post-install': script('post-install'), 'post-upgrade': script('post-upgrade'), 'pre-deinstall': script('pre-deinstall') },
    files: readTree(tree),
    epoch: EPOCH,
  };
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const a = Buffer.from(actual);
  let at = 0;

  while (at < Math.min(a.length, expected.length) && a[at] === expected[at]) at++;
  assert.ok(a.equals(expected), `${what}: ${a.length} bytes vs ${expected.length}, first difference at byte ${at}`);
}

test('mkpkg reproduces the reference package byte for byte: uncompressed, compressed, and for x86_64', () => {
  const uncompressed = mkpkg(hello());

  assertSameBytes(uncompressed, ref('uncompressed/hello-ref-1.2.3-r1.apk'), 'uncompressed (--compression none)');
  assertSameBytes(compress(uncompressed), ref('noarch/hello-ref-1.2.3-r1.apk'), 'compressed (the default, as OpenWrt builds it)');
  assert.is(sha(compress(uncompressed)), '1aa566b584ab6144a5db198f846a8237b4935ef4708798fc71fbc265e285e826');

  const x86 = HELLO_INFO.map(([k, v]): [string, string] => [k, k === 'arch' ? 'x86_64' : v]);

  assertSameBytes(compress(mkpkg(hello(undefined, x86))), ref('x86_64/hello-ref-1.2.3-r1.apk'), 'arch x86_64');
});

test('mkpkg reproduces the r2 upgrade package and the two stubs (versioned provides, provider-priority, no files)', () => {
  // r2: the default config says greeting 'hi'; .conffiles_static follows.
  const tree = join(tmp, 'hello-r2');
  const config = "config hello-ref 'main'\n\toption enabled '1'\n\toption greeting 'hi'\n";

  cpSync(join(input, 'ipkg-all/hello-ref'), tree, { recursive: true });
  writeFileSync(join(tree, 'etc/config/hello-ref'), config);
  chmodSync(join(tree, 'etc/config/hello-ref'), 0o600);
  writeFileSync(join(tree, 'lib/apk/packages/hello-ref.conffiles_static'), `/etc/config/hello-ref ${sha(Buffer.from(config))}\n`);
  assertSameBytes(compress(mkpkg(hello(tree, HELLO_INFO.map(([k, v]) => [k, k === 'version' ? '1.2.3-r2' : v])))), ref('upgrade/hello-ref-1.2.3-r2.apk'), 'r2');

  const empty = join(tmp, 'empty');

  mkdirSync(empty, { mode: 0o755 });
  chmodSync(empty, 0o755);

  const stub = (info: [string, string][]) => compress(mkpkg({ info, files: readTree(empty), epoch: EPOCH }));

  assertSameBytes(
    stub([
      ['name', 'libc'],
      ['version', '1.2.5-r5'],
      ['description', "STUB standing in for OpenWrt's libc (musl); contains no files"],
      ['arch', 'x86_64'],
      ['license', 'MIT'],
      ['origin', 'package/libs/toolchain'],
      ['url', 'http://www.musl-libc.org/'],
      ['maintainer', 'stub'],
      ['provides', 'libc-any'],
    ]),
    ref('stubs/libc-1.2.5-r5.apk'),
    'libc stub',
  );
  assertSameBytes(
    stub([
      ['name', 'nftables-nojson'],
      ['version', '1.1.6-r2'],
      ['description', "STUB standing in for OpenWrt's nftables-nojson; contains no files"],
      ['arch', 'x86_64'],
      ['license', 'GPL-2.0'],
      ['origin', 'package/network/utils/nftables'],
      ['url', 'https://netfilter.org/projects/nftables/'],
      ['maintainer', 'stub'],
      ['provides', 'nftables-nojson-any nftables=1.1.6-r2'],
      ['provider-priority', '100'],
      ['depends', 'libc'],
    ]),
    ref('stubs/nftables-nojson-1.1.6-r2.apk'),
    'nftables-nojson stub',
  );
});

test("OpenWrt's scripts and lib/apk/packages files, as package-pack.mk wrote them for the reference", () => {
  const scripts = apkScripts('hello-ref', {});

  assert.equal(Object.keys(scripts), ['post-install', 'post-upgrade', 'pre-deinstall']);
  for (const [name, text] of Object.entries(scripts)) assert.is(text, readFileSync(join(input, 'apk-all/hello-ref', name), 'utf8'), name);

  // The package root before package-pack.mk added lib/apk/packages/.
  const tree = join(tmp, 'hello-bare');

  cpSync(join(input, 'ipkg-all/hello-ref'), tree, { recursive: true });
  rmSync(join(tree, 'lib'), { recursive: true });
  addPackageFiles(tree, 'hello-ref', ['/etc/config/hello-ref']);
  assertSameBytes(compress(mkpkg(hello(tree))), ref('noarch/hello-ref-1.2.3-r1.apk'), 'package from the bare tree');
});

test("deflate: pako with zlib's own hash gives apk's bytes; Node's bundled zlib (Chromium's) does not, though it inflates the same", () => {
  const uncompressed = ref('uncompressed/hello-ref-1.2.3-r1.apk');
  const apks = ref('noarch/hello-ref-1.2.3-r1.apk');
  const node = deflateRawSync(uncompressed, { level: 9, windowBits: 15, memLevel: 8 });

  assert.ok(Buffer.from(compress(uncompressed)).subarray(4).equals(apks.subarray(4)));
  assert.is.not(node.length, apks.length - 4, "Node's zlib gives other bytes (1313 against apk's 1280)");
  assert.ok(inflateRawSync(node).equals(uncompressed), "Node's bytes inflate to the same package");
});

// --- our reader, against apk adbdump of the same packages ---

/** apk adbdump's YAML (src/serialize_yaml.c), for the package schema. */
function yaml(pkg: ApkPackage): string {
  const out = ['#%SCHEMA: 676B6370', `# ADB block, size: ${pkg.adb.length}, compat: 0, ver: 0`];
  const pad = (level: number) => '  '.repeat(level);
  const text = (s: string, multiline: boolean, level: number, lead: string): string[] => {
    if (s.length >= 80 || multiline || /[\n\r']|\s#/.test(s)) return [`${lead}|`, ...s.split('\n').filter(Boolean).map((l) => pad(level + 1) + l)];
    if (/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) || s.includes(': ') || s.includes('#')) return [`${lead}'${s}'`];

    return [lead + s];
  };
  const scalar = (kind: Kind, v: Field, level: number, lead: string, multiline: boolean): string[] =>
    kind === 'oct' ? [`${lead}0${(v as number).toString(8)}`] : typeof v === 'number' ? [lead + v] : text(String(v), multiline, level, lead);
  const object = (schema: Schema, o: { [k: string]: Field }, level: number, first = ''): string[] => {
    const lines: string[] = [];

    for (const [key, kind] of schema.fields) {
      if (o[key] === undefined) continue;

      const lead = `${lines.length === 0 && first ? first : pad(level)}${key}:`;

      lines.push(...value(kind, o[key]!, level, lead, schema.name === 'scripts'));
    }

    return lines;
  };
  const value = (kind: Kind, v: Field, level: number, lead: string, multiline: boolean): string[] => {
    if (typeof kind === 'object' && 'object' in kind && !Array.isArray(v) && typeof v === 'object') return [lead, ...object(kind.object, v, level + 1)];
    if (typeof kind === 'object' && 'array' in kind) {
      const items = v as Field[];
      const item = kind.array;

      return [
        `${lead} # ${items.length} items`,
        ...items.flatMap((i) =>
          typeof i === 'object' && !Array.isArray(i) && typeof item === 'object' && 'object' in item ? object(item.object, i, level + 2, `${pad(level + 1)}- `) : scalar(item, i, level + 1, `${pad(level + 1)}- `, false),
        ),
      ];
    }

    return scalar(kind, v, level, `${lead} `, multiline);
  };
  const root: { [k: string]: Field } = { info: pkg.info, paths: pkg.paths.map((d) => ({ ...(d.name ? { name: d.name } : {}), acl: d.acl, ...(d.files.length ? { files: d.files as unknown as Field } : {}) })) };

  if (Object.keys(pkg.scripts).length > 0) root.scripts = pkg.scripts;
  out.push(...object(PACKAGE, root, 0));
  for (const data of pkg.data.values()) out.push(`# data block, size: ${data.length + 8}`);

  return out.join('\n') + '\n';
}

test('the reader shows the reference packages as apk adbdump does (YAML and JSON)', () => {
  const dumps: [string, string][] = [
    ['noarch/hello-ref-1.2.3-r1.apk', 'noarch_hello-ref-1.2.3-r1'],
    ['x86_64/hello-ref-1.2.3-r1.apk', 'x86_64_hello-ref-1.2.3-r1'],
    ['upgrade/hello-ref-1.2.3-r2.apk', 'upgrade_hello-ref-1.2.3-r2'],
    ['stubs/libc-1.2.5-r5.apk', 'stubs_libc-1.2.5-r5'],
    ['stubs/nftables-nojson-1.1.6-r2.apk', 'stubs_nftables-nojson-1.1.6-r2'],
    ['signed/noarch/hello-ref-1.2.3-r1.apk', 'signed_noarch_hello-ref-1.2.3-r1'],
  ];

  for (const [file, dump] of dumps) {
    const pkg = readApk(ref(file));
    // The signature's line carries a shortened signature and apk's verdict: left out.
    const expected = readFileSync(join(REF, 'dumps', `${dump}.adbdump.yaml`), 'utf8').replace(/^# sig .*\n/m, '');

    assert.fixture(yaml(pkg), expected);
    assert.is(pkg.signatures, file.startsWith('signed/') ? 1 : 0, `${file} signatures`);
  }

  const pkg = readApk(ref('noarch/hello-ref-1.2.3-r1.apk'));
  const json = JSON.parse(readFileSync(join(REF, 'dumps/noarch_hello-ref-1.2.3-r1.adbdump.json'), 'utf8'));

  assert.equal({ info: pkg.info, paths: pkg.paths.map((d) => ({ ...(d.name ? { name: d.name } : {}), acl: d.acl, ...(d.files.length ? { files: d.files } : {}) })), scripts: pkg.scripts }, json);
  assert.is(pkg.data.get('usr/bin/hello-ref')!.toString(), '#!/bin/sh\necho "hello-ref: $*"\n');
  assertSameBytes(readApk(ref('uncompressed/hello-ref-1.2.3-r1.apk')).raw, pkg.raw, 'the uncompressed package reads the same');
});

test('the reader refuses a damaged package, naming the damage', () => {
  const good = ref('uncompressed/hello-ref-1.2.3-r1.apk');
  const damaged = (at: number, what: RegExp) => {
    const bad = Buffer.from(good);

    bad[at] = bad[at]! ^ 0x01;
    assert.throws(() => readApk(bad), what);
  };

  damaged(0, /not an apk v3 package/);
  damaged(5, /schema .* is not a package/);
  damaged(good.length - 20, /usr\/bin\/hello-ref: content does not match its hash/);
  damaged(100, /info\.hashes does not match|points outside|expected/);
  assert.throws(() => readApk(good.subarray(0, good.length - 8)), /overruns|padding/);
  assert.throws(() => readApk(ref('noarch/hello-ref-1.2.3-r1.apk').subarray(0, 600)), /unexpected end|incorrect|Z_BUF_ERROR/);
});

test('the writer names the field and the value it refuses', () => {
  const spec = (info: [string, string][]) => ({ ...hello(), info: [...HELLO_INFO, ...info] });

  assert.throws(() => mkpkg(spec([['version', '1.0.0-1']])), /info field 'version' has invalid value: '1\.0\.0-1' is not an apk version/);
  assert.throws(() => mkpkg(spec([['name', '-x']])), /info field 'name' has invalid value: '-x'/);
  assert.throws(() => mkpkg(spec([['depends', 'libc foo>=']])), /info field 'depends' has invalid value: 'foo>=' is not a dependency/);
  assert.throws(() => mkpkg(spec([['installed-size', '1']])), /invalid info field: installed-size/);
});

// --- our packages ---

const { makefileScript } = (await import(join(ROOT, 'build/ipk.mjs'))) as { makefileScript(name: string, script: string): string | undefined };

function build(outdir: string, umask = '022'): void {
  execFileSync('sh', ['-c', `umask ${umask} && node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0" && node build/apk.mjs "$0"`, outdir], {
    cwd: ROOT,
    env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
    stdio: 'pipe',
  });
}

const out1 = join(tmp, 'one');

build(out1);

const apkFile = (dir: string, name: string) => join(dir, `${name}-${PKG_VERSION}.apk`);
const ours = (name: string) => readApk(readFileSync(apkFile(out1, name)));
const sourceOf = (source: string) => readFileSync(source === 'bundle' ? join(out1, 'vpn-passthrough.js') : join(ROOT, source));

for (const pkg of PACKAGES) {
  test(`${pkg.name}: info fields, as OpenWrt 25.12 would write them`, () => {
    const apk = ours(pkg.name);

    assert.equal(Object.keys(apk.info), ['name', 'version', 'hashes', 'description', 'arch', 'license', 'origin', 'maintainer', 'url', 'installed-size', 'depends', 'provides']);
    assert.is(apk.info.name, pkg.name);
    assert.is(apk.info.version, PKG_VERSION);
    assert.match(String(apk.info.hashes), /^[0-9a-f]{40}$/);
    assert.is(apk.info.description, pkg.description.join(' ').replace(/\s+/g, ' '));
    assert.is(apk.info.arch, 'noarch');
    assert.is(apk.info.license, LICENSE);
    assert.is(apk.info.origin, SOURCE);
    assert.is(apk.info.maintainer, MAINTAINER);
    assert.is(apk.info.url, URL);
    assert.is(apk.info['installed-size'], [...apk.data.values()].reduce((n, d) => n + d.length, 0));
    assert.equal(apk.info.depends, ['libc', ...pkg.depends].sort());
    assert.equal(apk.info.provides, [`${pkg.name}-any`]);
    assert.is(apk.compression, 'deflate');
    assert.is(apk.signatures, 0, 'unsigned, as 25.12 builds packages');
  });

  test(`${pkg.name}: every directory and file, with mode, owner, mtime, hash and content; the .ipk's files`, () => {
    const apk = ours(pkg.name);
    const meta = ['.list', ...(pkg.conffiles.length ? ['.conffiles', '.conffiles_static'] : [])].map((s) => `/lib/apk/packages/${pkg.name}${s}`);
    const expected = new Map<string, { mode: number; data?: Buffer }>([...pkg.files.map(([path, source, mode]) => [path, { mode, data: sourceOf(source) }] as const), ...meta.map((m) => [m, { mode: 0o644 }] as const)]);
    const dirs = new Set(['', ...[...expected.keys()].flatMap((p) => p.split('/').slice(1, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/')))]);

    assert.equal(apk.paths.map((d) => d.name), [...dirs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))), 'every directory, the root too, sorted');

    const seen: string[] = [];

    for (const d of apk.paths) {
      assert.equal(d.acl, { mode: 0o755, user: 'root', group: 'root' }, `/${d.name}`);
      for (const f of d.files) {
        const path = `/${d.name}/${f.name}`;
        const want = expected.get(path);
        const data = apk.data.get(path.slice(1))!;

        assert.ok(want, `${path} is one of ours`);
        assert.equal(f.acl, { mode: want!.mode, user: 'root', group: 'root' }, `${path} acl`);
        assert.is(f.mtime, EPOCH, `${path} mtime`);
        assert.is(f.size, data.length, `${path} size`);
        assert.is(f.hash, sha(data), `${path} hash`);
        if (want!.data) assert.ok(data.equals(want!.data), `${path} content`);
        seen.push(path);
      }
    }
    assert.equal(seen.sort(), [...expected.keys()].sort());

    // The same files and modes as the .ipk.
    const ipk = readTar(member(readTar(readFileSync(join(out1, `${pkg.name}_${PKG_VERSION}_all.ipk`))), './data.tar.gz').data);
    const ipkFiles = ipk.filter((m) => m.type === '0').map((m) => [m.name.slice(1), m.mode.toString(8), sha(m.data)]);
    const apkFiles = seen.filter((p) => !meta.includes(p)).map((p) => [p, expected.get(p)!.mode.toString(8), sha(apk.data.get(p.slice(1))!)]);

    assert.equal(apkFiles.sort(), ipkFiles.sort());
  });

  test(`${pkg.name}: lib/apk/packages, as sysupgrade and default_postinst read them`, () => {
    const apk = ours(pkg.name);
    const text = (f: string) => apk.data.get(`lib/apk/packages/${pkg.name}.${f}`)?.toString();

    assert.is(text('list'), pkg.files.map(([p]) => p).sort().map((p) => `${p}\n`).join(''));
    if (pkg.conffiles.length === 0) {
      assert.is(text('conffiles'), undefined);
    } else {
      assert.is(text('conffiles'), pkg.conffiles.map((c) => `${c}\n`).join(''));
      assert.is(text('conffiles_static'), pkg.conffiles.map((c) => `${c} ${sha(apk.data.get(c.slice(1))!)}\n`).join(''));
    }
  });

  test(`${pkg.name}: scripts composed from package/${pkg.name}/Makefile as package-pack.mk does`, () => {
    const apk = ours(pkg.name);
    const defs = { postinst: makefileScript(pkg.name, 'postinst'), prerm: makefileScript(pkg.name, 'prerm'), postrm: makefileScript(pkg.name, 'postrm') };
    const body = (s?: string) => (s ?? '').replace(/^#!.*\n/, '');

    assert.equal(apk.scripts, apkScripts(pkg.name, defs));
    assert.ok(apk.scripts['post-install']!.startsWith(`#!/bin/sh\n[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0\n`));
    assert.ok(apk.scripts['post-install']!.endsWith(`\nexport pkgname="${pkg.name}"\nadd_group_and_user\ndefault_postinst\n${body(defs.postinst)}`));
    assert.is(apk.scripts['post-upgrade'], `#!/bin/sh\nexport PKG_UPGRADE=1\n${apk.scripts['post-install']!.replace(/^#!.*\n/, '')}`);
    assert.ok(apk.scripts['pre-deinstall']!.endsWith(`\nexport pkgname="${pkg.name}"\ndefault_prerm\n${body(defs.prerm)}`));
    assert.is(apk.scripts['post-deinstall'], defs.postrm);
    assert.is(apk.scripts['pre-install'], undefined);
  });
}

test('two builds of one commit are byte-identical, whatever the umask; the deflate is zlib 1.2.13 (Debian) byte for byte', () => {
  const out2 = join(tmp, 'two');

  build(out2, '077');
  for (const pkg of PACKAGES) {
    const file = apkFile(out1, pkg.name);

    assert.is(sha(readFileSync(apkFile(out2, pkg.name))), sha(readFileSync(file)), file);

    // The same stream deflated by the system's zlib (through Python), on an
    // input far larger than the reference's: window sliding, several blocks.
    const apk = readFileSync(file);
    const python = spawnSync('python3', ['-c', 'import sys, zlib; o = zlib.compressobj(9, zlib.DEFLATED, -15, 8); sys.stdout.buffer.write(o.compress(sys.stdin.buffer.read()) + o.flush())'], {
      input: inflateRawSync(apk.subarray(4)),
      maxBuffer: 1 << 26,
    });

    assert.is(python.status, 0, String(python.stderr));
    assert.ok(python.stdout.equals(apk.subarray(4)), `${pkg.name}: our deflate equals zlib's`);
  }
});

test.run();
