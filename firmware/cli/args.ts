// Command-line arguments: a command, positionals, and --flags. Flags take a
// value when the command declares them so (`--confdir DIR` or
// `--confdir=DIR`); others are booleans (`--json`).

export interface Args {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string | true>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], valued: ReadonlySet<string>): Args {
  const args: Args = { command: undefined, positionals: [], flags: new Map() };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;

    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);

      if (valued.has(name)) {
        const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);

        // `--host --json`: the next flag is no value.
        if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
        args.flags.set(name, value);
      } else {
        if (eq >= 0) throw new UsageError(`--${name} takes no value`);
        args.flags.set(name, true);
      }
    } else if (args.command === undefined && !arg.startsWith('-')) {
      args.command = arg;
    } else if (arg === '-h') {
      args.flags.set('help', true);
    } else {
      args.positionals.push(arg);
    }
  }

  return args;
}

export function flagValue(args: Args, name: string, fallback: string): string {
  const value = args.flags.get(name);

  return typeof value === 'string' ? value : fallback;
}
