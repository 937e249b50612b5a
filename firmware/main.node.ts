// Entry point on the build/test host: the same commands, run by Node.

import { main } from './cli/main.ts';
import { nodePlatform } from './platform/node.ts';
import { errorMessage } from './platform/platform.ts';

const platform = nodePlatform();

main(platform).then(
  (code) => platform.exit(code),
  (e: unknown) => {
    platform.err(`vpn-passthrough: ${errorMessage(e)}`);
    platform.exit(1);
  },
);
