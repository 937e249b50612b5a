import type { Paths } from '../engine/engine.ts';
import { flagValue, type Args } from './args.ts';

export const DEFAULT_CONFDIR = '/etc/config';
export const DEFAULT_STATEDIR = '/var/run/vpn-passthrough';

/** --confdir DIR (like `uci -c`) and --statedir DIR. */
export function paths(args: Args): Paths {
  return { confdir: flagValue(args, 'confdir', DEFAULT_CONFDIR), statedir: flagValue(args, 'statedir', DEFAULT_STATEDIR) };
}
