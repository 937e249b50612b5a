import type { Platform } from '../platform/platform.ts';
import type { Args } from './args.ts';

/** One subcommand of `vpn-passthrough`. */
export interface Command {
  summary: string;
  usage: string;
  run(platform: Platform, args: Args): Promise<number>;
}
