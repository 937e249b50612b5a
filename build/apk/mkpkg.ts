// `apk mkpkg` of apk-tools 3.0.5 (src/app_mkpkg.c) in TypeScript: a package
// from a file tree, its --info fields and --script texts, with the same bytes
// as the real tool run the way OpenWrt 25.12 runs it (default compat
// 3.0.0_pre1: every directory, the root included, is a path entry; owner
// root:root as under fakeroot; every mtime = SOURCE_DATE_EPOCH; no xattrs,
// no signature), deflated as apk does (raw deflate, level 9).
//
// The order in which values are written decides the bytes, so the steps
// below follow mkpkg_main() one for one.

import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

import { deflateRaw } from 'pako';

import { AdbWriter, block, BLOCK_ADB, BLOCK_DATA, fileHeader, NULL, type Val } from './adb.ts';
import {
  ACL,
  DEPMASK_ANY,
  DIR,
  FILE,
  fieldIndex,
  PACKAGE,
  PKGINFO,
  SCHEMA_PACKAGE,
  SCRIPT_NAMES,
  VERSION_CONFLICT,
  VERSION_EQUAL,
  VERSION_FUZZY,
  VERSION_GREATER,
  VERSION_LESS,
  type Kind,
  type Schema,
  type ScriptName,
} from './schema.ts';

/** One entry of the package root; path is relative ('' = the root, 'etc/config'). */
export interface Entry {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  mode: number;
  user: string;
  group: string;
  data?: Uint8Array;
  target?: string;
}

export interface PackageSpec {
  /** --info fields as [name, value] pairs, e.g. ['depends', 'libc nftables']; a later one wins. */
  info: [string, string][];
  scripts?: Partial<Record<ScriptName, string | Uint8Array>>;
  /** The --files tree; every directory is listed, the root ('') included. */
  files: Entry[];
  /** SOURCE_DATE_EPOCH: every file's mtime. */
  epoch: number;
}

const S_IFLNK = 0o120000;
const bytes = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
/** C strcmp / memcmp order, as apk sorts names and blobs. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// --- field values from their --info strings (apk_adb.c *_fromstring) ---

const NAME_CHARS = /^[A-Za-z0-9][A-Za-z0-9+._-]*$/;
const DEP_NAME_CHARS = /^[A-Za-z0-9+._,:/[\]-]+$/;
const VERSION_RE = /^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?$/;

export const validVersion = (v: string) => VERSION_RE.test(v);

class FieldError extends Error {}

function opMask(op: string): number {
  let r = 0;

  for (const c of op) r |= c === '<' ? VERSION_LESS : c === '>' ? VERSION_GREATER : c === '=' ? VERSION_EQUAL : VERSION_FUZZY | VERSION_EQUAL;

  return r;
}

/** A dependency "[!]name[op version]" written as apk's dependency_fromstring does. */
function dependency(w: AdbWriter, spec: string): Val {
  const m = /^(!?)([^<>=~]*)(?:([<>=~]+)(.*))?$/s.exec(spec);

  if (!m || (m[3] !== undefined && m[4] === '')) throw new FieldError(`'${spec}' is not a dependency`);

  let op = m[1] ? VERSION_CONFLICT : 0;
  const [name, version] = [m[2]!, m[4]];

  if (m[3] === undefined) op |= DEPMASK_ANY;
  else if ((op |= opMask(m[3])) === (op & VERSION_CONFLICT)) throw new FieldError(`'${spec}' is not a dependency`);
  if ((op & (VERSION_LESS | VERSION_GREATER)) !== (VERSION_LESS | VERSION_GREATER) && version !== undefined && !validVersion(version)) {
    throw new FieldError(`'${spec}': '${version}' is not an apk version`);
  }
  if (!DEP_NAME_CHARS.test(name)) throw new FieldError(`'${spec}': '${name}' is not a package name`);

  const fields: Val[] = [w.blob(name)];

  if (op !== DEPMASK_ANY) {
    fields.push(version === undefined ? NULL : w.blob(version));
    if (op !== VERSION_EQUAL) fields.push(w.int(op));
  }

  return w.object(fields);
}

function integer(value: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new FieldError(`'${value}' is not a number`);

  return BigInt(value);
}

function fromString(w: AdbWriter, kind: Kind, name: string, value: string): Val {
  if (typeof kind === 'object' && 'array' in kind) {
    if (name === 'tags') {
      const words = value.split(' ').filter(Boolean);

      for (const t of words) if (!/^[A-Za-z0-9+,./:=[\]_-]+$/.test(t)) throw new FieldError(`'${t}' is not a tag`);

      return w.object(words.map((t) => w.blob(t)));
    }
    // The values of the dependency objects, written one after the other;
    // the array is stored sorted, each one once (adb_wa_sort_unique).
    const specs = value.split(/[ \n]+/).filter(Boolean);
    const deps = specs.map((s) => ({ name: /^!?([^<>=~]*)/.exec(s)![1]!, val: dependency(w, s) }));
    const unique = [...new Map(deps.map((d) => [d.val, d])).values()];

    for (let i = 1; i < unique.length; i++) {
      if (unique.some((d, j) => j < i && d.name === unique[i]!.name)) throw new FieldError(`'${unique[i]!.name}' is listed twice with different versions`);
    }
    unique.sort((a, b) => byteOrder(a.name, b.name));

    return w.object(unique.map((d) => d.val));
  }
  switch (kind) {
    case 'string':
      return w.blob(value);
    case 'version':
      if (!validVersion(value)) throw new FieldError(`'${value}' is not an apk version (digits and dots, an optional letter, _suffixes, -r<release>)`);

      return w.blob(value);
    case 'hex':
      if (!/^([0-9a-fA-F]{2})*$/.test(value)) throw new FieldError(`'${value}' is not hex`);

      return w.blob(Buffer.from(value, 'hex'));
    case 'int':
    case 'oct':
    case 'time':
    case 'size':
      return w.int(kind === 'oct' ? BigInt(`0o${value}`) : integer(value));
    default:
      throw new FieldError(`field kind ${JSON.stringify(kind)} cannot be given as text`);
  }
}

/** The info object's values from --info fields, in field order (assign_fields). */
function infoValues(w: AdbWriter, info: [string, string][]): Val[] {
  const given = new Map<number, string>();

  for (const [name, value] of info) {
    const i = PKGINFO.fields.findIndex(([n]) => n === name) + 1;

    if (i === 0 || name === 'installed-size' || name === 'file-size') throw new Error(`mkpkg: invalid info field: ${name}`);
    given.set(i, value);
  }
  for (const required of ['name', 'version']) {
    if (!given.has(fieldIndex(PKGINFO, required))) throw new Error(`mkpkg: required info field '${required}' not provided`);
  }
  if (!given.has(fieldIndex(PKGINFO, 'arch'))) throw new Error("mkpkg: give 'arch' (apk would use the build machine's)");

  const values: Val[] = new Array(PKGINFO.fields.length).fill(NULL);

  for (const [i, value] of [...given.entries()].sort((a, b) => a[0] - b[0])) {
    const [name, kind] = PKGINFO.fields[i - 1]!;

    if (name === 'name' && !NAME_CHARS.test(value)) throw new Error(`mkpkg: info field 'name' has invalid value: '${value}' is not a package name`);
    try {
      values[i - 1] = fromString(w, kind, name, value);
    } catch (e) {
      if (e instanceof FieldError) throw new Error(`mkpkg: info field '${name}' has invalid value: ${e.message}`);
      throw e;
    }
  }

  return values;
}

// --- the file tree ---

/** Sorts objects as adb_wa_sort does: by their first field, a name ('' = none, first). */
const sortByName = <T extends { name: string }>(items: T[]) => [...items].sort((a, b) => byteOrder(a.name, b.name));

const set = (schema: Schema, values: Record<string, Val>): Val[] => {
  const out: Val[] = new Array(schema.fields.length).fill(NULL);

  for (const [name, v] of Object.entries(values)) out[fieldIndex(schema, name) - 1] = v;

  return out;
};

function aclValue(w: AdbWriter, e: Entry): Val {
  const mode = w.int(e.mode & 0o7777);
  const user = w.blob(e.user);
  const group = w.blob(e.group);

  return w.object(set(ACL, { mode, user, group }));
}

interface Written {
  path: string;
  files: { name: string; entry: Entry }[];
}

/** Writes the directories one after another (mkpkg_process_directory); returns them sorted, the array itself not yet written. */
function directories(w: AdbWriter, entries: Entry[], epoch: number): { dirs: Val[]; order: Written[]; installedSize: number } {
  const dirs = entries.filter((e) => e.type === 'dir').map((e) => e.path);
  const parent = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
  const written: { name: string; val: Val; dir: Written }[] = [];
  let installedSize = 0;

  if (!dirs.includes('')) throw new Error('mkpkg: the tree has no root directory');
  for (const e of entries) {
    if (e.path !== '' && !dirs.includes(parent(e.path))) throw new Error(`mkpkg: ${e.path}: its directory is not in the tree`);
  }
  // The root first, then every other directory in strcmp order of its path.
  for (const dir of ['', ...dirs.filter((d) => d !== '').sort(byteOrder)]) {
    const here = entries.filter((e) => e.path !== '' && e.type !== 'dir' && parent(e.path) === dir);
    const files: Val[] = [];
    const names: Written['files'] = [];

    for (const e of here.sort((a, b) => byteOrder(a.path, b.path))) {
      const name = e.path.slice(dir === '' ? 0 : dir.length + 1);
      const size = e.type === 'file' ? e.data!.length : Buffer.byteLength(e.target!);
      const fio: Record<string, Val> = { name: w.blob(name) };

      if (e.type === 'file') {
        fio.hash = w.blob(createHash('sha256').update(e.data!).digest());
        installedSize += size;
      } else {
        const mode = Buffer.alloc(2);

        mode.writeUInt16LE(S_IFLNK);
        fio.target = w.blob(mode, e.target!);
      }
      fio.mtime = w.int(epoch);
      fio.size = w.int(size);
      fio.acl = aclValue(w, e);
      files.push(w.object(set(FILE, fio)));
      names.push({ name, entry: e });
    }

    const self = entries.find((e) => e.type === 'dir' && e.path === dir)!;
    const name = w.blob(dir);
    const acl = aclValue(w, self);
    // The files array, sorted by name (apk tags arrays set as fields as objects, too).
    const sorted = sortByName(names.map((n, i) => ({ ...n, val: files[i]! })));
    const filesVal = w.object(sorted.map((f) => f.val));

    written.push({ name: dir, val: w.object(set(DIR, { name, acl, files: filesVal })), dir: { path: dir, files: sorted } });
  }

  const order = sortByName(written);

  return { dirs: order.map((d) => d.val), order: order.map((d) => d.dir), installedSize };
}

/** The uncompressed package: "ADB." header, the ADB block, one DATA block per non-empty regular file. */
export function mkpkg(spec: PackageSpec): Uint8Array {
  const w = new AdbWriter();
  const info = infoValues(w, spec.info);
  const { dirs, order, installedSize } = directories(w, spec.files, spec.epoch);
  const scripts = spec.scripts ?? {};
  const hasScripts = Object.values(scripts).some((s) => s !== undefined);

  info[fieldIndex(PKGINFO, 'installed-size') - 1] = w.int(installedSize || 1);
  // The package's identity: 20 zero bytes now, SHA-256 of the whole ADB block later.
  const hashes = w.blobRaw(new Uint8Array(20));

  info[fieldIndex(PKGINFO, 'hashes') - 1] = hashes;

  // info, paths, scripts, the package: in this order, as apk writes them.
  const pkg: Record<string, Val> = {};

  pkg.info = w.object(info);
  pkg.paths = w.object(dirs);
  if (hasScripts) pkg.scripts = w.object(SCRIPT_NAMES.map((n) => (scripts[n] === undefined ? NULL : w.blob(bytes(scripts[n]!)))));
  w.setRoot(w.object(set(PACKAGE, pkg)));
  w.bytesOf(hashes).set(createHash('sha256').update(w.payload()).digest().subarray(0, 20));

  const out: Uint8Array[] = [fileHeader(SCHEMA_PACKAGE), ...block(BLOCK_ADB, w.payload())];

  order.forEach((dir, i) =>
    dir.files.forEach(({ entry }, j) => {
      if (entry.type !== 'file' || entry.data!.length === 0) return;

      const hdr = Buffer.alloc(8);

      hdr.writeUInt32LE(i + 1, 0);
      hdr.writeUInt32LE(j + 1, 4);
      out.push(...block(BLOCK_DATA, hdr, entry.data!));
    }),
  );

  return Buffer.concat(out);
}

/** The package file as apk writes it by default: "ADBd", then the uncompressed form raw-deflated
 * (zlib deflateInit2 level 9, windowBits -15, memLevel 8: pako with zlib's own hash). */
export function compress(uncompressed: Uint8Array): Uint8Array {
  const deflated = deflateRaw(uncompressed, { level: 9, windowBits: 15, memLevel: 8, strategy: 0, legacyHash: true });

  return Buffer.concat([Buffer.from('ADBd', 'latin1'), deflated]);
}

/** A directory on disk as a tree for mkpkg, owned by root (OpenWrt packs under fakeroot). */
export function readTree(root: string): Entry[] {
  const out: Entry[] = [];
  const walk = (rel: string): void => {
    const full = join(root, rel);
    const st = lstatSync(full);
    const base = { path: rel, mode: st.mode & 0o7777, user: 'root', group: 'root' };

    if (st.isDirectory()) {
      out.push({ ...base, type: 'dir' });
      for (const name of readdirSync(full)) walk(rel === '' ? name : `${rel}/${name}`);
    } else if (st.isFile()) {
      if (st.nlink > 1) throw new Error(`mkpkg: ${full}: hard links are not supported`);
      out.push({ ...base, type: 'file', data: readFileSync(full) });
    } else if (st.isSymbolicLink()) {
      out.push({ ...base, type: 'symlink', target: readlinkSync(full) });
    } else {
      throw new Error(`mkpkg: ${full}: only directories, regular files and symlinks can be packed`);
    }
  };

  walk('');

  return out;
}
