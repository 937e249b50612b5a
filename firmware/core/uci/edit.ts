// Changing a parsed UCI package the way `uci set` / `uci delete` would:
// options keep their place, a new section goes after the last one of its
// type, so the committed file stays as its owner laid it out.

import type { UciPackage, UciSection } from './parse.ts';

export function findSection(pkg: UciPackage, type: string, name: string): UciSection | undefined {
  return pkg.sections.find((s) => s.name === name && s.type === type);
}

/** The named section, created (after the last of its type) if missing. */
export function ensureSection(pkg: UciPackage, type: string, name: string): UciSection {
  const found = findSection(pkg, type, name);

  if (found) return found;

  const section: UciSection = { type, name, options: new Map(), line: 0 };
  let last = -1;

  pkg.sections.forEach((s, i) => {
    if (s.type === type) last = i;
  });
  pkg.sections.splice(last < 0 ? pkg.sections.length : last + 1, 0, section);

  return section;
}

/** Sets an option (a string), a list (an array; empty deletes), or deletes (null). */
export function setOption(section: UciSection, option: string, value: string | string[] | null): void {
  if (value === null || (Array.isArray(value) && value.length === 0) || value === '') section.options.delete(option);
  else section.options.set(option, value);
}
