// UCI configuration text → sections, with libuci's rules (openwrt/uci
// file.c): commands `package`, `config`, `option`, `list` (or their first
// letters), '…' and "…" quoting that may be glued together (`'it'\''s'`),
// backslash escapes outside single quotes, `#` comments, `;` between
// commands, quoted values spanning lines. Like `uci` (strict mode), the
// first error stops the parse and names the line.

export interface UciSection {
  type: string;
  /** null for an anonymous section (`config zone`). */
  name: string | null;
  /** Options in file order; a list option holds an array. */
  options: Map<string, string | string[]>;
  /** Line of the `config` command, for error messages. */
  line: number;
}

export interface UciPackage {
  sections: UciSection[];
}

export class UciSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[A-Za-z0-9_]+$/;
const PACKAGE_NAME = /^[A-Za-z0-9_-]+$/;

class Scanner {
  pos = 0;
  line = 1;

  constructor(readonly text: string) {}

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  take(): string {
    const c = this.text[this.pos++] ?? '';

    if (c === '\n') this.line++;

    return c;
  }

  /** Spaces and tabs; a newline ends the command line, so it is not skipped. */
  skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r' || this.peek() === '\f' || this.peek() === '\v') this.pos++;
  }

  atEol(): boolean {
    return this.peek() === '\n' || this.peek() === '';
  }
}

/** A backslash: the next character is taken as it is; at the end of a line
 * it joins the next line instead. Returns the character to add, or ''. */
function escaped(s: Scanner): string {
  s.take();
  if (s.atEol()) {
    if (s.peek() === '\n') s.take();

    return '';
  }

  return s.take();
}

/** One argument: quoted pieces and bare characters up to a blank, `#`, `;`
 * or the end of the line. Returns null when there is none. */
function readArg(s: Scanner): string | null {
  s.skipBlanks();
  if (s.peek() === ';') {
    s.take();

    return null;
  }

  let value = '';
  let any = false;

  for (;;) {
    const c = s.peek();

    if (c === '' || c === '\n' || c === ' ' || c === '\t' || c === '\r' || c === '#' || c === ';') break;
    any = true;
    if (c === "'" || c === '"') {
      const start = s.line;

      s.take();
      for (;;) {
        const q = s.peek();

        if (q === '') throw new UciSyntaxError(`EOF with unterminated ${c}`, start);
        if (q === c) {
          s.take();
          break;
        }
        value += c === '"' && q === '\\' ? escaped(s) : s.take();
      }
    } else if (c === '\\') {
      value += escaped(s);
    } else {
      value += s.take();
    }
  }

  return any ? value : null;
}

function readWord(s: Scanner): string {
  s.skipBlanks();
  let word = '';

  while (!s.atEol() && s.peek() !== ' ' && s.peek() !== '\t') word += s.take();

  return word;
}

/** After a command's arguments: nothing but a comment, `;` or the line end. */
function endOfCommand(s: Scanner): void {
  s.skipBlanks();
  if (s.peek() === ';') {
    s.take();

    return;
  }
  if (s.peek() === '#') {
    while (!s.atEol()) s.take();

    return;
  }
  if (!s.atEol()) throw new UciSyntaxError('too many arguments', s.line);
}

export function parseUci(text: string): UciPackage {
  const s = new Scanner(text);
  const sections: UciSection[] = [];
  let current: UciSection | null = null;

  while (s.peek() !== '') {
    const word = readWord(s);

    if (word === '' || word.startsWith('#')) {
      while (!s.atEol()) s.take();
      s.take();
      continue;
    }

    const line = s.line;

    switch (word) {
      case 'package':
      case 'p': {
        const name = readArg(s);

        if (name === null) throw new UciSyntaxError('package without name', line);
        if (!PACKAGE_NAME.test(name)) throw new UciSyntaxError(`invalid character in package name '${name}'`, line);
        break;
      }
      case 'config':
      case 'c': {
        const type = readArg(s);
        const name = readArg(s);

        if (type === null || type === '') throw new UciSyntaxError('config without type', line);
        if (/[\x00-\x1f\x7f]/.test(type)) throw new UciSyntaxError(`invalid character in type '${type}'`, line);
        if (name !== null && name !== '' && !NAME.test(name)) throw new UciSyntaxError(`invalid character in section name '${name}'`, line);

        // A named section that exists already is continued (libuci's uci_set).
        const existing = name ? sections.find((sec) => sec.name === name) : undefined;

        if (existing) {
          existing.type = type;
          current = existing;
        } else {
          current = { type, name: name || null, options: new Map(), line };
          sections.push(current);
        }
        break;
      }
      case 'option':
      case 'o':
      case 'list':
      case 'l': {
        if (!current) throw new UciSyntaxError('option/list command found before the first section', line);
        const name = readArg(s);
        const value = readArg(s) ?? '';

        if (name === null) throw new UciSyntaxError(`${word} without name`, line);
        if (!NAME.test(name)) throw new UciSyntaxError(`invalid character in option name '${name}'`, line);

        if (word[0] === 'l') {
          const old = current.options.get(name);

          current.options.set(name, old === undefined ? [value] : [...(typeof old === 'string' ? [old] : old), value]);
        } else if (value === '') {
          current.options.delete(name); // libuci: setting '' deletes
        } else {
          current.options.set(name, value);
        }
        break;
      }
      default:
        throw new UciSyntaxError(`invalid command '${word}'`, line);
    }
    endOfCommand(s);
  }

  return { sections };
}
