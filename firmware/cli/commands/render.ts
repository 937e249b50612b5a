import { renderRuleset } from '../../engine/engine.ts';
import type { Command } from '../command.ts';
import { printDiagnostics } from '../output.ts';
import { netifd } from '../netifd.ts';
import { paths } from '../paths.ts';

export const renderCommand: Command = {
  summary: 'print the nft ruleset apply would load',
  usage: 'render [--confdir DIR]',
  async run(platform, args) {
    const { ruleset, diagnostics } = await renderRuleset(platform, paths(args), netifd(platform, args));

    printDiagnostics(platform, diagnostics);
    if (ruleset === undefined) return 1;
    platform.out(ruleset.trimEnd());

    return 0;
  },
};
