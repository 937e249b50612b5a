// The package schema of apk-tools v3 ("pckg"), as src/apk_adb.c of apk-tools
// 3.0.5 declares it: each object's fields by index (index 0 of an ADB object
// holds its field count) and how each field's value is encoded. The writer
// (mkpkg.ts) and the reader (read.ts) share it.

/** How a field's value is stored and shown. */
export type Kind =
  | 'string' // blob, shown as text
  | 'version' // blob, an apk version
  | 'hex' // blob, shown as hex
  | 'int' // integer
  | 'oct' // integer, shown in octal (modes)
  | 'time' // integer, seconds since the epoch
  | 'size' // integer, bytes
  | { object: Schema }
  | { array: Kind };

export interface Schema {
  name: string;
  /** Field names and kinds; fields[i - 1] is field i. */
  fields: [string, Kind][];
}

export const SCHEMA_PACKAGE = 0x676b6370; // "pckg", little-endian

export const DEPENDENCY: Schema = {
  name: 'dependency',
  fields: [
    ['name', 'string'],
    ['version', 'version'],
    ['match', 'int'],
  ],
};

export const PKGINFO: Schema = {
  name: 'info',
  fields: [
    ['name', 'string'],
    ['version', 'version'],
    ['hashes', 'hex'],
    ['description', 'string'],
    ['arch', 'string'],
    ['license', 'string'],
    ['origin', 'string'],
    ['maintainer', 'string'],
    ['url', 'string'],
    ['repo-commit', 'hex'],
    ['build-time', 'time'],
    ['installed-size', 'size'],
    ['file-size', 'size'],
    ['provider-priority', 'int'],
    ['depends', { array: { object: DEPENDENCY } }],
    ['provides', { array: { object: DEPENDENCY } }],
    ['replaces', { array: { object: DEPENDENCY } }],
    ['install-if', { array: { object: DEPENDENCY } }],
    ['recommends', { array: { object: DEPENDENCY } }],
    ['layer', 'int'],
    ['tags', { array: 'string' }],
  ],
};

export const ACL: Schema = {
  name: 'acl',
  fields: [
    ['mode', 'oct'],
    ['user', 'string'],
    ['group', 'string'],
    ['xattrs', { array: 'hex' }],
  ],
};

export const FILE: Schema = {
  name: 'file',
  fields: [
    ['name', 'string'],
    ['acl', { object: ACL }],
    ['size', 'int'],
    ['mtime', 'time'],
    ['hash', 'hex'],
    ['target', 'hex'],
  ],
};

export const DIR: Schema = {
  name: 'dir',
  fields: [
    ['name', 'string'],
    ['acl', { object: ACL }],
    ['files', { array: { object: FILE } }],
  ],
};

/** Script fields in index order, as apk stores them. */
export const SCRIPT_NAMES = ['trigger', 'pre-install', 'post-install', 'pre-deinstall', 'post-deinstall', 'pre-upgrade', 'post-upgrade'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

export const SCRIPTS: Schema = { name: 'scripts', fields: SCRIPT_NAMES.map((n) => [n, 'string']) };

export const PACKAGE: Schema = {
  name: 'package',
  fields: [
    ['info', { object: PKGINFO }],
    ['paths', { array: { object: DIR } }],
    ['scripts', { object: SCRIPTS }],
    ['triggers', { array: 'string' }],
    ['replaces-priority', 'int'],
  ],
};

/** The field index (1-based) of a name in a schema; throws for an unknown one. */
export function fieldIndex(schema: Schema, name: string): number {
  const i = schema.fields.findIndex(([n]) => n === name);

  if (i < 0) throw new Error(`${schema.name} has no field '${name}'`);

  return i + 1;
}

/** Version comparison operators as stored in a dependency's match field. */
export const VERSION_EQUAL = 1;
export const VERSION_LESS = 2;
export const VERSION_GREATER = 4;
export const VERSION_FUZZY = 8;
export const VERSION_CONFLICT = 16;
export const DEPMASK_ANY = VERSION_EQUAL | VERSION_LESS | VERSION_GREATER;
