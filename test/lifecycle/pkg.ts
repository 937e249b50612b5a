// The two package managers of OpenWrt, as far as our packages meet them, run
// against a Router root:
// - opkg (up to 24.10), in opkg-lede's order (libopkg/opkg_install.c,
//   opkg_remove.c): on upgrade the old prerm ("upgrade <version>",
//   PKG_UPGRADE=1) and the old postrm (the same, still before any file
//   changes), new files, conffiles the user changed kept (the new one as
//   <file>-opkg), then postinst "configure"; on removal prerm "remove", then the files go except
//   conffiles the user changed (directories stay), then postrm "remove".
//   Scripts are the .ipk's postinst/prerm, which source /lib/functions.sh and
//   hand over to default_postinst/default_prerm.
// - apk 3.0.5 (25.x), as src/database.c does it and the recordings in
//   ../shared/fixtures/apk/install show: the scripts the .apk carries; files
//   under /etc protected by checksum (a changed one is kept, the package's
//   copy goes to <file>.apk-new, removed again by del); on upgrade only the
//   new package's post-upgrade runs; del runs pre-deinstall, removes the
//   files and every directory no other package holds, then post-deinstall.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { readApk } from '../../build/apk/read.ts';
import { member, readTar, type TarMember } from '../lib/tar.ts';
import type { Router, Run } from './router.ts';

export interface Package {
  name: string;
  /** Maintainer scripts and control files by name: the .ipk's control members, or the .apk's scripts. */
  control: Map<string, string>;
  /** Files ('0'), directories ('5') and symlinks ('2'), named './path'. */
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

/** An .apk read with our reader, in the same shape. */
export function openApk(path: string): Package {
  const apk = readApk(readFileSync(path));
  const name = String(apk.info.name);
  const entry = (p: string, type: string, mode: number, data: Buffer = Buffer.alloc(0)): TarMember => ({ name: `./${p}`, type, mode, uid: 0, gid: 0, size: data.length, mtime: 0, uname: 'root', gname: 'root', data });
  const files: TarMember[] = [];

  for (const d of apk.paths) {
    if (d.name !== '') files.push(entry(`${d.name}/`, '5', d.acl.mode));
    for (const f of d.files) {
      const p = d.name ? `${d.name}/${f.name}` : f.name;

      files.push(f.target ? entry(p, '2', f.acl.mode, Buffer.from(f.target, 'hex').subarray(2)) : entry(p, '0', f.acl.mode, apk.data.get(p) ?? Buffer.alloc(0)));
    }
  }

  return {
    name,
    control: new Map(Object.entries(apk.scripts)),
    files,
    conffiles: (apk.data.get(`lib/apk/packages/${name}.conffiles`)?.toString() ?? '').split('\n').filter(Boolean),
  };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const paths = (pkg: Package) => pkg.files.filter((m) => m.type !== '5').map((m) => m.name.slice(1));
const dirsOf = (pkg: Package) => pkg.files.filter((m) => m.type === '5').map((m) => m.name.slice(1).replace(/\/$/, ''));
const NOTHING: Run = { status: 0, stdout: '', stderr: '' };

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

export class Opkg {
  private readonly installed = new Map<string, Package>();
  private readonly hashes = new Map<string, Map<string, string>>();

  constructor(private readonly router: Router) {}

  private info(name: string, file: string): string {
    return `/usr/lib/opkg/info/${name}.${file}`;
  }

  private script(name: string, script: string, args: string, upgrade: boolean, env: Record<string, string> = {}): Run {
    if (!this.router.exists(this.info(name, script))) return NOTHING;

    return this.router.sh(`${this.info(name, script)} ${args}`, { env: { PKG_ROOT: '/', PKG_UPGRADE: upgrade ? '1' : '0', ...env } });
  }

  /** Deletes the files of a list, except conffiles the user changed; directories stay. */
  private deleteFiles(name: string, list: string[]): void {
    const keep = modified(this.router, this.hashes.get(name) ?? new Map());

    for (const path of list) if (!keep.has(path)) this.router.sh(`rm -f '${path}'`);
  }

  /** opkg install: a fresh install, or an upgrade when the package is installed. */
  install(pkg: Package, env: Record<string, string> = {}): { prerm?: Run; postrm?: Run; postinst: Run } {
    const old = this.installed.get(pkg.name);
    const version = /^Version: (.*)$/m.exec(pkg.control.get('control')!)![1]!;
    // prerm_upgrade_old_pkg, then postrm_upgrade_old_pkg (opkg_install.c).
    const prerm = old ? this.script(old.name, 'prerm', `upgrade ${version}`, true, env) : undefined;
    const postrm = old ? this.script(old.name, 'postrm', `upgrade ${version}`, true, env) : undefined;
    const keep = modified(this.router, this.hashes.get(pkg.name) ?? new Map());

    if (old) {
      // Files of the old version the new one no longer has go; then its scripts.
      this.deleteFiles(old.name, paths(old).filter((p) => !paths(pkg).includes(p)));
      this.router.sh(`rm -f /usr/lib/opkg/info/${old.name}.*`);
    }
    for (const [file, text] of pkg.control) this.router.write(this.info(pkg.name, file), text, /postinst|prerm|preinst|postrm/.test(file) ? 0o755 : 0o644);
    extract(this.router, pkg);
    for (const [path, content] of keep) {
      this.router.sh(`mv '${path}' '${path}-opkg'`);
      this.router.write(path, content, 0o600);
    }
    this.hashes.set(pkg.name, new Map(pkg.conffiles.map((c) => [c, sha256(pkg.files.find((m) => m.name === `.${c}`)!.data)])));
    this.router.write(this.info(pkg.name, 'list'), paths(pkg).join('\n') + '\n');
    this.installed.set(pkg.name, pkg);

    return { prerm, postrm, postinst: this.script(pkg.name, 'postinst', 'configure', Boolean(old), env) };
  }

  remove(name: string): { prerm: Run; postrm: Run } {
    const pkg = this.installed.get(name)!;
    const prerm = this.script(name, 'prerm', 'remove', false);

    this.deleteFiles(name, paths(pkg));
    const postrm = this.script(name, 'postrm', 'remove', false);

    this.router.sh(`rm -f /usr/lib/opkg/info/${name}.*`);
    this.installed.delete(name);
    this.hashes.delete(name);

    return { prerm, postrm };
  }

  /** The postinst as an Image Builder runs it: offline, IPKG_INSTROOT set. */
  postinstOffline(pkg: Package, instroot: string): Run {
    return this.router.sh(`IPKG_INSTROOT=${instroot} ${instroot}${this.info(pkg.name, 'postinst')}`);
  }
}

/** apk's default protected paths: +etc (kept when changed), @etc/init.d (symlinks only), !etc/apk. */
const protectedPath = (path: string, type: string) => path.startsWith('/etc/') && !path.startsWith('/etc/apk/') && (!path.startsWith('/etc/init.d/') || type === '2');

export class Apk {
  private readonly installed = new Map<string, Package>();
  /** Each installed file's SHA-256 as its package had it (apk's installed db). */
  private readonly db = new Map<string, string>();
  /** Directories there before: base-files' and the other packages' of the image. */
  private readonly base: Set<string>;

  constructor(private readonly router: Router) {
    this.base = new Set(router.dirs());
  }

  /** Runs a script of the package as apk does: environment PATH, APK_SCRIPT, APK_PACKAGE only. */
  private run(pkg: Package, script: string): Run | undefined {
    const text = pkg.control.get(script);

    if (text === undefined) return undefined;
    this.router.write('/tmp/.apk-script', text, 0o700);

    return this.router.sh('/tmp/.apk-script; s=$?; rm -f /tmp/.apk-script; exit $s', { env: { APK_SCRIPT: script, APK_PACKAGE: pkg.name } });
  }

  private onDisk(path: string): string {
    return sha256(readFileSync(this.router.path(path)));
  }

  /** apk_db_audit_file: there, and not what the installed package put there (or no package's). */
  private changed(path: string): boolean {
    return this.router.exists(path) && this.onDisk(path) !== this.db.get(path);
  }

  /** Removes files and then the directories nothing else holds (apk_db_purge_pkg, apk_db_dir_unref). */
  private purge(pkg: Package, keepPaths: string[] = [], keepDirs: string[] = []): void {
    for (const m of pkg.files.filter((f) => f.type !== '5')) {
      const path = m.name.slice(1);

      if (keepPaths.includes(path)) continue;
      if (!protectedPath(path, m.type) || !this.changed(path)) this.router.sh(`rm -f '${path}'`);
      if (protectedPath(path, m.type)) this.router.sh(`rm -f '${path}.apk-new'`);
      this.db.delete(path);
    }

    const held = new Set([...this.base, ...keepDirs, ...[...this.installed.values()].filter((p) => p.name !== pkg.name).flatMap(dirsOf)]);

    for (const dir of dirsOf(pkg).sort().reverse()) if (!held.has(dir)) this.router.sh(`rmdir '${dir}' 2>/dev/null`);
  }

  /** apk add: install, or upgrade (the new version's pre-upgrade and post-upgrade only). */
  add(pkg: Package): Run {
    const old = this.installed.get(pkg.name);

    this.run(pkg, old ? 'pre-upgrade' : 'pre-install');
    for (const m of pkg.files) {
      const path = m.name.slice(1);

      if (m.type === '5') {
        this.router.sh(`mkdir -p '${path}' && chmod ${m.mode.toString(8)} '${path}'`);
        continue;
      }
      if (protectedPath(path, m.type) && this.changed(path)) {
        if (this.onDisk(path) !== sha256(m.data)) this.router.write(`${path}.apk-new`, m.data, m.mode);
      } else {
        this.router.write(path, m.data, m.mode);
      }
      this.db.set(path, sha256(m.data));
    }
    if (old) this.purge(old, paths(pkg), dirsOf(pkg));
    this.installed.set(pkg.name, pkg);

    return this.run(pkg, old ? 'post-upgrade' : 'post-install')!;
  }

  del(name: string): { preDeinstall: Run; postDeinstall?: Run } {
    const pkg = this.installed.get(name)!;
    const preDeinstall = this.run(pkg, 'pre-deinstall')!;

    this.installed.delete(name);
    this.purge(pkg);

    return { preDeinstall, postDeinstall: this.run(pkg, 'post-deinstall') };
  }
}
