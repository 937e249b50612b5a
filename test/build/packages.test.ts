// The .ipk packages as a router's opkg sees them: every member, field and
// mode, byte-identical rebuilds, and agreement with the SDK Makefiles.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { PACKAGES, PKG_VERSION, RELEASE, VERSION } from '../lib/packages.ts';
import { member, readTar, type TarMember } from '../lib/tar.ts';

const ROOT = process.cwd();
const EPOCH = 1700000000;
const tmp = mkdtempSync(join(tmpdir(), 'vpnpt-ipk-'));


function build(outdir: string, env: Record<string, string> = {}, umask = '022'): void {
  const opts = { cwd: ROOT, env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH), ...env }, stdio: 'pipe' as const };

  execFileSync('sh', ['-c', `umask ${umask} && node build/bundle.mjs "$0/vpn-passthrough.js" && node build/ipk.mjs "$0"`, outdir], opts);
}

// One build for the structure tests, bundle included.
const out1 = join(tmp, 'one');
build(out1);

const SDK_DIRS = ['package/vpn-passthrough', 'package/luci-app-vpn-passthrough'];

/** A variable of an SDK Makefile as GNU make evaluates it, with empty stand-ins for the SDK's includes. */
function sdkVariable(dir: string, name: string): string {
  const top = join(tmp, 'top');

  mkdirSync(join(top, 'include'), { recursive: true });
  mkdirSync(join(top, 'feeds/luci'), { recursive: true });
  for (const f of ['rules.mk', 'include/package.mk', 'feeds/luci/luci.mk']) writeFileSync(join(top, f), '');
  writeFileSync(join(tmp, 'print.mk'), 'print-%:\n\t@echo $($*)\n');

  return execFileSync('make', ['-s', '-C', dir, '-f', 'Makefile', '-f', join(tmp, 'print.mk'), `TOPDIR=${top}`, `INCLUDE_DIR=${top}/include`, `print-${name}`], { cwd: ROOT }).toString().trim();
}

const ipk = (name: string) => readFileSync(join(out1, `${name}_${PKG_VERSION}_all.ipk`));
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function control(pkg: string): Map<string, string> {
  const text = member(readTar(member(readTar(ipk(pkg)), './control.tar.gz').data), './control').data.toString();
  const fields = new Map<string, string>();

  for (const m of text.matchAll(/^([A-Za-z-]+): (.*(?:\n .*)*)/gm)) fields.set(m[1]!, m[2]!);

  return fields;
}

function assertRootOwned(members: TarMember[], what: string): void {
  for (const m of members) {
    assert.is(m.uid, 0, `${what} ${m.name} uid`);
    assert.is(m.gid, 0, `${what} ${m.name} gid`);
    assert.is(m.mtime, EPOCH, `${what} ${m.name} mtime`);
  }
}

for (const pkg of PACKAGES) {
  test(`${pkg.name}: outer archive is a gzip'd tar of the three members, in ipkg-build's order`, () => {
    const raw = ipk(pkg.name);

    assert.equal([...raw.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic, not an ar archive');
    const outer = readTar(raw);

    assert.equal(outer.map((m) => m.name), ['./debian-binary', './data.tar.gz', './control.tar.gz']);
    assert.is(member(outer, './debian-binary').data.toString(), '2.0\n');
    assertRootOwned(outer, 'outer');
    // Each inner archive is itself gzip'd.
    for (const name of ['./data.tar.gz', './control.tar.gz']) assert.equal([...member(outer, name).data.subarray(0, 2)], [0x1f, 0x8b], name);
  });

  test(`${pkg.name}: control fields`, () => {
    const fields = control(pkg.name);
    const dataTar = execFileSync('gzip', ['-dc'], { input: member(readTar(ipk(pkg.name)), './data.tar.gz').data });

    assert.equal([...fields.keys()], ['Package', 'Version', 'Depends', 'Source', 'SourceName', 'License', 'Section', 'URL', 'Maintainer', 'Architecture', 'Installed-Size', 'Description']);
    assert.is(fields.get('Package'), pkg.name);
    assert.is(fields.get('Version'), PKG_VERSION);
    // OpenWrt puts libc first for every package but kernel modules.
    assert.is(fields.get('Depends'), ['libc', ...pkg.depends].join(', '));
    assert.is(fields.get('Architecture'), 'all');
    assert.is(fields.get('SourceName'), pkg.name);
    assert.is(fields.get('License'), 'GPL-2.0-only');
    // As ipkg-build computes it: the size of the uncompressed data tar.
    assert.is(fields.get('Installed-Size'), String(dataTar.length));
    assert.ok(fields.get('Description')!.length > 20);
    assert.match(pkg.name, /^[a-z0-9.+-]+$/);
  });

  test(`${pkg.name}: control archive members, modes and maintainer scripts`, () => {
    const members = readTar(member(readTar(ipk(pkg.name)), './control.tar.gz').data);
    const files = members.filter((m) => m.type === '0');

    assertRootOwned(members, 'control');
    for (const m of files) assert.is(m.mode, m.name.match(/\/(preinst|postinst|prerm|postrm)(-pkg)?$/) ? 0o755 : 0o644, `${m.name} mode`);

    const names = files.map((m) => m.name);

    assert.ok(names.includes('./control') && names.includes('./postinst') && names.includes('./prerm'), names.join(' '));
    assert.is(names.includes('./conffiles'), pkg.conffiles.length > 0);
    if (pkg.conffiles.length > 0) assert.is(member(members, './conffiles').data.toString(), pkg.conffiles.join('\n') + '\n');

    const postinst = member(members, './postinst').data.toString();
    const prerm = member(members, './prerm').data.toString();

    assert.match(postinst, /^#!\/bin\/sh\n/);
    assert.match(postinst, /^\. \$\{IPKG_INSTROOT\}\/lib\/functions\.sh$/m);
    assert.match(postinst, /^default_postinst \$0 \$@$/m);
    assert.match(prerm, /^default_prerm \$0 \$@$/m);
    // Both must be valid shell.
    for (const script of files.filter((m) => /postinst|prerm/.test(m.name))) execFileSync('sh', ['-n'], { input: script.data });
  });

  test(`${pkg.name}: data archive holds exactly the manifest, root-owned, right modes`, () => {
    const members = readTar(member(readTar(ipk(pkg.name)), './data.tar.gz').data);

    assertRootOwned(members, 'data');
    const files = members.filter((m) => m.type === '0');
    const dirs = members.filter((m) => m.type === '5');

    assert.equal(files.map((m) => m.name).sort(), pkg.files.map(([path]) => `.${path}`).sort());
    for (const [path, source, mode] of pkg.files) {
      const m = member(members, `.${path}`);

      assert.is(m.mode, mode, `${path} mode ${m.mode.toString(8)}`);
      const expected = source === 'bundle' ? readFileSync(join(out1, 'vpn-passthrough.js')) : readFileSync(join(ROOT, source));

      assert.ok(m.data.equals(expected), `${path} content`);
    }
    for (const d of dirs) assert.is(d.mode, 0o755, `${d.name} directory mode`);
    // Sorted entries, as --sort=name writes them.
    const names = members.map((m) => m.name.replace(/\/$/, ''));

    assert.equal(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}

test('vpn-passthrough: the bundle, the init script, the config and the command are where the router expects them', () => {
  const names = readTar(member(readTar(ipk('vpn-passthrough')), './data.tar.gz').data).map((m) => m.name);

  for (const path of ['./usr/share/vpn-passthrough/vpn-passthrough.js', './etc/init.d/vpn-passthrough', './etc/config/vpn-passthrough', './usr/bin/vpn-passthrough']) {
    assert.ok(names.includes(path), path);
  }
});

test('the system tar opens both packages into the three members', () => {
  for (const pkg of PACKAGES) {
    const dir = join(tmp, `x-${pkg.name}`);

    mkdirSync(dir);
    execFileSync('tar', ['-xzf', join(out1, `${pkg.name}_${PKG_VERSION}_all.ipk`), '-C', dir]);
    assert.equal(execFileSync('ls', ['-A', dir]).toString().split('\n').filter(Boolean).sort(), ['control.tar.gz', 'data.tar.gz', 'debian-binary']);
  }
});

test('two builds of one commit are byte-identical, whatever the umask', () => {
  const out2 = join(tmp, 'two');

  build(out2, {}, '077');
  for (const pkg of PACKAGES) {
    const file = `${pkg.name}_${PKG_VERSION}_all.ipk`;

    assert.is(sha(join(out2, file)), sha(join(out1, file)), file);
  }
});

test('the version reaches the bundle and the SDK Makefiles from VERSION and RELEASE alone', () => {
  const bundle = readFileSync(join(out1, 'vpn-passthrough.js'), 'utf8');

  assert.ok(bundle.includes(JSON.stringify(VERSION)), 'bundle carries the version');

  // Evaluate each SDK Makefile's PKG_VERSION and PKG_RELEASE with GNU make:
  // an empty rules.mk and package.mk stand in for the SDK's, which only add rules.
  for (const dir of SDK_DIRS) {
    assert.is(sdkVariable(dir, 'PKG_VERSION'), VERSION, dir);
    assert.is(sdkVariable(dir, 'PKG_RELEASE'), RELEASE, dir);
  }
});

/** A define block of a Makefile (make's text, $$ not undone), or undefined. */
function define(makefile: string, name: string): string | undefined {
  return new RegExp(`^define ${name.replace(/[/]/g, '\\/')}\n([\\s\\S]*?)^endef$`, 'm').exec(makefile)?.[1];
}

const strip = (s: string) => s.replace(/\s+/g, ' ').trim();

test('the SDK Makefiles declare the same depends, conffiles and description as our packages', () => {
  for (const pkg of PACKAGES) {
    const makefile = readFileSync(join(ROOT, 'package', pkg.name, 'Makefile'), 'utf8');
    const luci = pkg.name.startsWith('luci-app-');
    const depends = luci ? /^LUCI_DEPENDS:=(.*)$/m.exec(makefile)![1]! : /^\s+DEPENDS:=(.*)$/m.exec(makefile)![1]!;
    const description = luci ? /^LUCI_DESCRIPTION:=(.*)$/m.exec(makefile)![1]! : define(makefile, `Package/${pkg.name}/description`)!;

    assert.equal(depends.trim().split(/\s+/).map((d) => d.replace(/^\+/, '')), pkg.depends, `${pkg.name} DEPENDS`);
    assert.equal((define(makefile, `Package/${pkg.name}/conffiles`) ?? '').split('\n').filter(Boolean), pkg.conffiles, `${pkg.name} conffiles`);
    assert.is(strip(description), strip(pkg.description.join(' ')), `${pkg.name} description`);
  }
});

test('the SDK Makefiles install the same files, with the same modes, as our packages', () => {
  const modes: Record<string, number> = { INSTALL_BIN: 0o755, INSTALL_DATA: 0o644, INSTALL_CONF: 0o600 };

  for (const pkg of PACKAGES) {
    const makefile = readFileSync(join(ROOT, 'package', pkg.name, 'Makefile'), 'utf8');
    const installed = new Map<string, number>();

    for (const m of makefile.matchAll(/^\t\$\((INSTALL_BIN|INSTALL_DATA|INSTALL_CONF)\) (\S+) (\S+)$/gm)) {
      const dest = m[3]!
        .replace('$(1)', '')
        .replace('$(PKG_BUILD_DIR)/htdocs', '/www')
        .replace('$(PKG_BUILD_DIR)/root', '');

      installed.set(dest, modes[m[1]!]!);
    }
    assert.equal(
      [...installed.entries()].sort(),
      pkg.files.map(([path, , mode]) => [path, mode] as [string, number]).sort(),
      pkg.name,
    );
  }
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
