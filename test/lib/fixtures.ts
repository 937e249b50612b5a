// Where the recorded real-world fixtures are: ../shared/fixtures (fw4
// rulesets, libuci outputs, ubusd transcripts), and our own test fixtures.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = process.cwd();
/** $VPNPT_SHARED_FIXTURES, else shared/fixtures beside the checkout. */
export const SHARED = process.env.VPNPT_SHARED_FIXTURES || join(ROOT, '..', 'shared', 'fixtures');
export const OWN = join(ROOT, 'test', 'fixtures');

if (!existsSync(SHARED)) {
  throw new Error(`the recorded fixtures are not at ${SHARED}: put the shared/ directory beside the repository, or set VPNPT_SHARED_FIXTURES`);
}

export const shared = (path: string) => readFileSync(join(SHARED, path), 'utf8');
export const own = (path: string) => readFileSync(join(OWN, path), 'utf8');

/** The genuine fw4 rulesets, by fixture name. */
export const FW4_RULESETS = ['upstream-default', 'upstream-default.pptp-loaded', 'minimal'] as const;
export const fw4Ruleset = (name: string) => join(SHARED, 'fw4', `${name}.fw4-print.nft`);
