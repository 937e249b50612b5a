// Sections → UCI text exactly as libuci writes it (uci_export_package):
// what `uci commit` leaves in /etc/config, or `uci export` with the package
// line. Values always single-quoted, a quote inside as '\''.

import type { UciPackage } from './parse.ts';

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const escape = (s: string) => s.replaceAll("'", `'\\''`);

export function formatUci(pkg: UciPackage, packageName?: string): string {
  let out = packageName === undefined ? '' : `package ${escape(packageName)}\n`;

  for (const section of pkg.sections) {
    out += `\nconfig ${escape(section.type)}${section.name === null ? '' : ` ${quote(section.name)}`}\n`;
    for (const [name, value] of section.options) {
      for (const item of typeof value === 'string' ? [value] : value) {
        out += `\t${typeof value === 'string' ? 'option' : 'list'} ${escape(name)} ${quote(item)}\n`;
      }
    }
  }

  return out + '\n';
}
