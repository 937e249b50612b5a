import { hasErrors } from '../../core/diag.ts';
import { renderRuleset } from '../../engine/engine.ts';
import { checkRuleset } from '../../engine/nft.ts';
import type { Command } from '../command.ts';
import { printDiagnostics } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';

export const renderCommand: Command = {
  summary: 'print the nft ruleset apply would load (--check: and let the kernel check it)',
  usage: 'render [--check] [--confdir DIR]',
  async run(platform, args) {
    const { ruleset, diagnostics } = await renderRuleset(platform, paths(args), netifd(platform, args));

    if (ruleset !== undefined && args.flags.has('check')) diagnostics.push(...(await checkRuleset(platform, ruleset)));
    printDiagnostics(platform, diagnostics);
    if (ruleset === undefined) return 1;
    platform.out(ruleset.trimEnd());

    return hasErrors(diagnostics) ? 1 : 0;
  },
};
