// The two package managers of OpenWrt, as far as our packages meet them, run
// against a Router root:
// - opkg (up to 24.10), in opkg-lede's order (libopkg/opkg_install.c,
//   opkg_remove.c): on upgrade the old prerm ("upgrade", PKG_UPGRADE=1), new
//   files, conffiles the user changed kept (the new one as <file>-opkg), then
//   postinst "configure"; on removal prerm "remove", then the files go except
//   conffiles the user changed. Scripts are the .ipk's postinst/prerm, which
//   source /lib/functions.sh and hand over to default_postinst/default_prerm.
// - apk (25.x): the scripts include/package-pack.mk composes from the same
//   Package/<name>/postinst|prerm: default_postinst, then ours inline.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { member, readTar, type TarMember } from '../lib/tar.ts';
import type { Router, Run } from './router.ts';

export interface Package {
  name: string;
  control: Map<string, string>;
  files: TarMember[];
  conffiles: string[];
}

export function openIpk(path: string): Package {
  const outer = readTar(readFileSync(path));
  const control = new Map(readTar(member(outer, './control.tar.gz').data).filter((m) => m.type === '0').map((m) => [m.name.replace('./', ''), m.data.toString()]));
  const files = readTar(member(outer, './data.tar.gz').data).filter((m) => m.name !== './');

  return {
    name: /^Package: (.*)$/m.exec(control.get('control')!)![1]!,
    control,
    files,
    conffiles: (control.get('conffiles') ?? '').split('\n').filter(Boolean),
  };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const paths = (pkg: Package) => pkg.files.filter((m) => m.type !== '5').map((m) => m.name.slice(1));

function extract(router: Router, pkg: Package): void {
  for (const m of pkg.files) {
    if (m.type === '5') router.sh(`mkdir -p '${m.name.slice(1)}' && chmod ${m.mode.toString(8)} '${m.name.slice(1)}'`);
    else router.write(m.name.slice(1), m.data, m.mode);
  }
}

/** Conffiles the user changed since the package installed them. */
function modified(router: Router, recorded: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();

  for (const [path, hash] of recorded) if (router.exists(path) && sha256(router.read(path)) !== hash) out.set(path, router.read(path));

  return out;
}

abstract class Manager {
  protected readonly hashes = new Map<string, Map<string, string>>();

  constructor(protected readonly router: Router) {}

  protected record(pkg: Package): void {
    this.hashes.set(pkg.name, new Map(pkg.conffiles.map((c) => [c, sha256(pkg.files.find((m) => m.name === `.${c}`)!.data)])));
  }

  /** Installs files: changed conffiles stay, the package's copy goes to <file><suffix>. */
  protected unpack(pkg: Package, suffix: string): void {
    const keep = modified(this.router, this.hashes.get(pkg.name) ?? new Map());

    extract(this.router, pkg);
    for (const [path, content] of keep) {
      this.router.sh(`mv '${path}' '${path}${suffix}'`);
      this.router.write(path, content, 0o600);
    }
    this.record(pkg);
  }

  /** Deletes the files of a list, except conffiles the user changed. */
  protected deleteFiles(name: string, list: string[]): void {
    const keep = modified(this.router, this.hashes.get(name) ?? new Map());

    for (const path of list) if (!keep.has(path)) this.router.sh(`rm -f '${path}'`);
  }
}

export class Opkg extends Manager {
  private readonly installed = new Map<string, Package>();

  private info(name: string, file: string): string {
    return `/usr/lib/opkg/info/${name}.${file}`;
  }

  private script(name: string, script: string, args: string, upgrade: boolean, env: Record<string, string> = {}): Run {
    if (!this.router.exists(this.info(name, script))) return { status: 0, stdout: '', stderr: '' };

    return this.router.sh(`${this.info(name, script)} ${args}`, { env: { PKG_ROOT: '/', PKG_UPGRADE: upgrade ? '1' : '0', ...env } });
  }

  /** opkg install: a fresh install, or an upgrade when the package is installed. */
  install(pkg: Package): { prerm?: Run; postinst: Run } {
    const old = this.installed.get(pkg.name);
    const prerm = old ? this.script(old.name, 'prerm', 'upgrade 1', true) : undefined;

    if (old) {
      // Files of the old version the new one no longer has go; then its scripts.
      this.deleteFiles(old.name, paths(old).filter((p) => !paths(pkg).includes(p)));
      this.router.sh(`rm -f /usr/lib/opkg/info/${old.name}.*`);
    }
    for (const [file, text] of pkg.control) this.router.write(this.info(pkg.name, file), text, /postinst|prerm/.test(file) ? 0o755 : 0o644);
    this.unpack(pkg, '-opkg');
    this.router.write(this.info(pkg.name, 'list'), paths(pkg).join('\n') + '\n');
    this.installed.set(pkg.name, pkg);

    return { prerm, postinst: this.script(pkg.name, 'postinst', 'configure', Boolean(old)) };
  }

  remove(name: string): Run {
    const pkg = this.installed.get(name)!;
    const prerm = this.script(name, 'prerm', 'remove', false);

    this.deleteFiles(name, paths(pkg));
    this.router.sh(`rm -f /usr/lib/opkg/info/${name}.*`);
    this.installed.delete(name);
    this.hashes.delete(name);

    return prerm;
  }

  /** The postinst as an Image Builder runs it: offline, IPKG_INSTROOT set. */
  postinstOffline(pkg: Package, instroot: string): Run {
    return this.router.sh(`IPKG_INSTROOT=${instroot} ${instroot}${this.info(pkg.name, 'postinst')}`);
  }
}

/** The scripts package-pack.mk writes for apk, from our Makefile blocks. */
export function apkScripts(pkg: Package): Record<'post-install' | 'post-upgrade' | 'pre-deinstall', string> {
  const body = (s: string | undefined) => (s ?? '').split('\n').filter((l) => !/^\s*#!/.test(l)).join('\n');
  const head = ['#!/bin/sh', '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0', '. ${IPKG_INSTROOT}/lib/functions.sh', 'export root="${IPKG_INSTROOT}"', `export pkgname="${pkg.name}"`];
  const install = ['#!/bin/sh', '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0', ...head.slice(1), 'add_group_and_user', 'default_postinst', body(pkg.control.get('postinst-pkg'))].join('\n');

  return {
    'post-install': install,
    'post-upgrade': ['#!/bin/sh', 'export PKG_UPGRADE=1', body(install)].join('\n'),
    'pre-deinstall': [...head, 'default_prerm', body(pkg.control.get('prerm-pkg'))].join('\n'),
  };
}

export class Apk extends Manager {
  private readonly installed = new Map<string, Package>();

  private run(pkg: Package, script: keyof ReturnType<typeof apkScripts>): Run {
    this.router.write(`/var/log/apk-${script}`, apkScripts(pkg)[script], 0o755);
    const r = this.router.sh(`/var/log/apk-${script}`);

    this.router.sh(`rm -f /var/log/apk-${script}`);

    return r;
  }

  /** apk add: install, or upgrade (post-upgrade only; the old version's scripts do not run). */
  add(pkg: Package): Run {
    const upgrade = this.installed.has(pkg.name);

    this.unpack(pkg, '.apk-new');
    this.router.write(`/lib/apk/packages/${pkg.name}.list`, paths(pkg).join('\n') + '\n');
    this.installed.set(pkg.name, pkg);

    return this.run(pkg, upgrade ? 'post-upgrade' : 'post-install');
  }

  del(name: string): Run {
    const pkg = this.installed.get(name)!;
    const r = this.run(pkg, 'pre-deinstall');

    this.deleteFiles(name, paths(pkg));
    this.router.sh(`rm -f /lib/apk/packages/${name}.list`);
    this.installed.delete(name);
    this.hashes.delete(name);

    return r;
  }
}
